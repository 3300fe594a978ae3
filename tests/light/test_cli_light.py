"""``terminal light simulate`` and ``terminal light test`` on the simulated scene with mock pins."""

from __future__ import annotations

import json

import pytest

from terminal.cli.main import main
from tests.support.shared import data

pytestmark = pytest.mark.slow  # the light CLI run to convergence

SUMMARY_KEYS = ["converged_at_frame", "final_brightness", "target", "final_duty", "faults"]


def image() -> str:
    """A real portrait from the shared set."""
    return str(data("conditions/single_face") / "mpl_grace_hopper.jpg")


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    """The JSON lines printed on stdout."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_simulate_json_converges_from_near_dark(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["light", "simulate", image(), "--ambient", "0.02", "--json", "--frames", "15", "--face", "centre"]) == 0
    )
    out = lines(capsys)
    assert len(out) == 16
    summary = out[-1]
    assert list(summary) == SUMMARY_KEYS
    assert summary["target"] == [105.0, 155.0]
    assert summary["converged_at_frame"] is not None and summary["converged_at_frame"] <= 8
    assert 105.0 <= summary["final_brightness"] <= 155.0
    assert 0 < summary["final_duty"] <= 0.85 and summary["faults"] == []
    frames = out[:-1]
    assert [f["frame"] for f in frames] == list(range(15))
    assert frames[0]["brightness"] < 105.0
    assert all({"duty", "exposure_us", "gain", "brightness"} <= set(f) for f in frames)


def test_simulate_dead_lamp_reports_light_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "light",
                "simulate",
                image(),
                "--ambient",
                "0.02",
                "--json",
                "--frames",
                "10",
                "--dead-lamp",
                "--face",
                "centre",
            ]
        )
        == 0
    )
    summary = lines(capsys)[-1]
    assert "LIGHT_FAULT" in summary["faults"]


def test_simulate_with_the_quality_gate_face_box(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["light", "simulate", image(), "--ambient", "0.1", "--json", "--frames", "10", "--face", "gate"]) == 0
    out = lines(capsys)
    assert any(f["face"] for f in out[:-1])  # the gate found the face once it was lit
    assert out[-1]["converged_at_frame"] is not None


def test_simulate_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["light", "simulate", image(), "--ambient", "0.5", "--frames", "5", "--face", "centre"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("frame   0  duty") and out[-1].startswith("converged at frame")


def test_light_test_steps_and_detects_a_dead_lamp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["light", "test", "--source", f"sim:{image()}?ambient=0.1", "--steps", "4", "--json"]) == 0
    out = lines(capsys)
    steps, verdict = out[:-1], out[-1]
    assert [s["duty"] for s in steps] == pytest.approx([0.0, 0.283, 0.567, 0.85], abs=1e-3)
    b = [s["brightness"] for s in steps]
    assert b == sorted(b) and b[-1] > b[0] + 20
    assert verdict["lamp"] == "ok"
    rc = main(["light", "test", "--source", f"sim:{image()}?ambient=0.1&dead_lamp=1", "--steps", "3", "--json"])
    assert rc == 69  # HardwareError
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[-1])["lamp"] == "dead"
    assert "ring light gives no light" in captured.err
