"""The README's main job: the daemon on a replayed clip with no camera and no broker keeps its result durably."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.report.outbox import Outbox
from tests.support.shared import data

pytestmark = pytest.mark.slow  # the README's main job: the daemon on a replayed clip

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.toml"


def terminal(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "terminal", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_demo_walkup_session_lands_in_the_outbox(tmp_path: Path) -> None:
    frames = data("videos/blink_selfie/frames")
    ref = tmp_path / "ref.json"
    assert main(["enroll", str(frames / "000005.jpg"), "--out", str(ref)]) == 0
    r = terminal(
        "run",
        "--config",
        str(DEMO),
        "--source",
        f"replay:{frames}",
        "--walkup-reference",
        str(ref),
        "--state-dir",
        str(tmp_path / "var"),
        "--max-sessions",
        "1",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    with Outbox(tmp_path / "var" / "outbox.sqlite") as ob:  # nothing listens on the demo's broker address
        items = ob.list()
        assert len(items) == 1
        result = items[0].payload_dict()
    assert result["decision"] == "match" and result["liveness"]["outcome"] == "passed"
    assert result["terminal_id"] == "demo-terminal" and result["request_id"].startswith("walkup-")


def test_missing_model_is_one_clear_line(tmp_path: Path) -> None:
    empty = tmp_path / "models"
    empty.mkdir()
    r = terminal(
        "run", "--config", str(DEMO), "--state-dir", str(tmp_path / "var"), env={"TERMINAL_MODELS_DIR": str(empty)}
    )
    assert r.returncode == 72  # EX_OSFILE: systemd restarts it; the journal says what is missing
    err = [line for line in r.stderr.splitlines() if line.startswith("terminal run: error:")]
    assert len(err) == 1 and "face_landmarker.task" in err[0] and "setup.sh" in err[0]
    assert "Traceback" not in r.stderr
