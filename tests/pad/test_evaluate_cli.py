"""``terminal evaluate pad`` / ``calibrate pad`` on a small folder in the documented layout, and bad layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal.cli.main import main
from tests.support.shared import data


@pytest.fixture(scope="module")
def pad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """live/: a real clip and two live stills; attack/print, attack/replay: stills; ref/: the clip's reference."""
    root = tmp_path_factory.mktemp("pad")
    (root / "live").mkdir()
    (root / "attack" / "print").mkdir(parents=True)
    (root / "attack" / "replay").mkdir(parents=True)
    (root / "ref").mkdir()
    (root / "live" / "fsw_bernard3073_data2").symlink_to(data("live/fsw_bernard3073_data2"))
    (root / "ref" / "fsw_bernard3073_data2.jpg").symlink_to(data("live/fsw_bernard3073_data2/ref.jpg"))
    for p in data("pad_samples").iterdir():
        if p.name.startswith("silentface_live") or p.name.startswith("vietmoney_live_true_001"):
            (root / "live" / p.name).symlink_to(p)
        elif p.name.startswith("silentface_spoof_print"):
            (root / "attack" / "print" / p.name).symlink_to(p)
        elif p.name.startswith(("silentface_spoof_tablet", "hyperfas")):
            (root / "attack" / "replay" / p.name).symlink_to(p)
    return root


def test_evaluate_pad_json(pad_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The recording blinks at 0.1, 0.6 and 2.1 s: it answers one blink prompted at once (a fixed plan: a
    # recording cannot answer a random one), while the attack stills keep the random default plan.
    args = ["evaluate", "pad", str(pad_dir), "--json", "--live-plan", "blink", "--live-delay", "0"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plans"] == {
        "attack": "1-2 blinks (CSPRNG), prompt delay 0.3-1.2 s",
        "live": "fixed blink, prompt delay 0 s",
    }
    assert out["apcer"] == {
        "print": {"n": 1, "accepted": 0, "apcer": 0.0},
        "replay": {"n": 2, "accepted": 0, "apcer": 0.0},
    }
    assert out["worst_apcer"] == 0.0 and out["bpcer"] == 0.0 and out["live"]["n"] == 3
    clip = next(i for i in out["items"] if i["item"] == "fsw_bernard3073_data2")
    assert clip["decision"] == "match" and clip["pad_score"] >= 0.9 and clip["decision_s"] <= 3.0
    stills = [i for i in out["items"] if i["kind"] != "live"]
    assert all(i["decision"] == "attack" and i["pad_score"] < 0.3 for i in stills)


def test_evaluate_pad_text(pad_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "pad", str(pad_dir), "--live-plan", "blink", "--live-delay", "0", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "plans: attacks 1-2 blinks (seed 3), prompt delay 0.3-1.2 s; live fixed blink, prompt delay 0 s" in out
    assert "worst-case APCER 0.0%" in out and "BPCER 0.0%" in out and "replay" in out


def test_bad_layouts_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "pad", str(tmp_path)]) == 65
    assert "expected live/ and/or attack/<kind>/" in capsys.readouterr().err
    (tmp_path / "attack").mkdir()
    (tmp_path / "attack" / "loose.jpg").write_bytes(b"x")
    assert main(["evaluate", "pad", str(tmp_path)]) == 65
    assert "one folder per attack kind" in capsys.readouterr().err
    (tmp_path / "attack" / "loose.jpg").unlink()
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "bob").symlink_to(data("live/fsw_bernard3073_data2"))
    assert main(["evaluate", "pad", str(tmp_path)]) == 65
    err = capsys.readouterr().err
    assert "no reference for 'bob'" in err and "Traceback" not in err


def test_calibrate_pad_prints_a_snippet(pad_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "pad", str(pad_dir), "--bpcer", "0.05", "--margin", "0.02"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[pad]\nthreshold = ")
    value = float(out.split("threshold = ")[1].split()[0])
    assert 0.5 < value < 1.0  # lowest live score (all three live items are real faces) minus the margin
    assert main(["calibrate", "pad", str(pad_dir), "--bpcer", "1.5"]) == 78
