"""The gate over the shared quality set (once per session) and the CLI commands around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terminal.analysis.evaluation import Sample, evaluate, format_table
from terminal.analysis.gate import QualityGate
from terminal.cli.main import main
from tests.support.shared import data

pytestmark = pytest.mark.slow  # evaluates the gate over a dataset


@pytest.fixture(scope="session")
def evaluation(gate: QualityGate) -> tuple[dict[str, Any], list[Sample]]:
    """The evaluation report of the default gate with the framing checks skipped."""
    return evaluate(data("quality"), gate)


def test_report_has_the_documented_shape(evaluation: tuple[dict[str, Any], list[Sample]]) -> None:
    report, samples = evaluation
    assert set(report) == {"per_condition", "ok", "summary"}
    assert set(report["summary"]) == {"correct_rate_macro", "ok_pass_rate"}
    for row in report["per_condition"].values():
        assert set(row) == {"n", "correct", "rejected"} and row["correct"] <= row["n"] and row["rejected"] <= row["n"]
    assert sum(r["n"] for r in report["per_condition"].values()) + report["ok"]["n"] == len(samples)
    assert "macro correct rate" in format_table(report)


RELABEL = Path(__file__).resolve().parents[2] / "docs" / "data" / "quality_relabel.csv"


def test_quality_set_figures(evaluation: tuple[dict[str, Any], list[Sample]]) -> None:
    """The issue's figures: on the whole set and on every leave-one-source-out fold, every condition >= 0.95,
    macro >= 0.97, ok pass >= 0.97, with clear glasses relabelled CLEAR_GLASSES (they must pass)."""
    from terminal.analysis.evaluation import summarise
    from terminal.analysis.folds import fold_reports, load_relabel, relabel

    _, samples = evaluation
    samples = relabel(samples, load_relabel(RELABEL))
    report = summarise(samples)
    folds = fold_reports(samples, "source")
    assert len(folds) >= 6
    for name, rep in [("all", report), *folds.items()]:
        s = rep["summary"]
        assert s["ok_pass_rate"] is None or s["ok_pass_rate"] >= 0.97, (name, s)
        assert s["correct_rate_macro"] >= 0.97, (name, s)
        for code, r in rep["per_condition"].items():
            assert r["correct"] / r["n"] >= 0.95, (name, code, r)
    assert report["per_condition"]["CLEAR_GLASSES"]["correct"] == report["per_condition"]["CLEAR_GLASSES"]["n"]


def test_cli_evaluate_quality_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A small copy-free layout: symlinks to three shared images.
    for folder, name in (
        ("ok", "yalefaces__subject01__normal.jpg"),
        ("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg"),
        ("POSE_ROLL", "yalefaces__subject02__normal.png"),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).symlink_to(data(f"quality/{folder}") / name)
    rc = main(
        ["evaluate", "quality", str(tmp_path), "--skip", "FACE_TOO_SMALL,FACE_TOO_CLOSE,FACE_OFF_CENTER", "--json"]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] == {"n": 1, "passed": 1, "advised": 0}
    # Seen (correct) but advisory: closed eyes cost matching nothing (evaluate edc), so the image is not blocked.
    assert out["per_condition"]["EYES_CLOSED"] == {"n": 1, "correct": 1, "rejected": 0}
    assert out["summary"]["correct_rate_macro"] == 1.0


def test_cli_analyze_json_and_annotate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = data("quality/EYES_CLOSED") / "yalefaces__subject03__sleepy.jpg"
    rc = main(["analyze", str(img), "--json", "--skip", "FACE_TOO_SMALL", "--annotate", str(tmp_path / "ann")])
    assert rc == 0  # closed eyes are advisory: reported, never blocking
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["passed"] and "EYES_CLOSED" in line["advisories"] and line["failures"] == []
    assert (tmp_path / "ann" / "yalefaces__subject03__sleepy.jpg").stat().st_size > 1000
    dark = data("quality/OCCLUDED_GLASSES") / "cmu_faces__an2i__an2i_straight_neutral_sunglasses.png"
    assert main(["analyze", str(dark), "--json", "--skip", "FACE_TOO_SMALL,FACE_OFF_CENTER,FACE_TOO_CLOSE"]) == 1
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert "DARK_GLASSES" in line["failures"] and line["message"]["en"]
    assert main(["analyze", str(tmp_path / "missing.jpg")]) == 66


def test_cli_replay_analyze(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["replay", str(data("videos/pyfeat_single_face/frames")), "--analyze", "--frames", "3"])
    assert rc == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and all(x["verdict"]["n_faces"] == 1 for x in lines)
    assert "landmarks" not in json.dumps(lines)
