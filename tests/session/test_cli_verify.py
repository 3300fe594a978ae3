"""``terminal verify --source``: a whole session from the command line, events then the result record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.session.schema import validate_result
from tests.session.clips import live_frames, photo_attack, write_recording, yale
from tests.support.shared import data

pytestmark = pytest.mark.slow  # whole verification sessions through the CLI


@pytest.fixture(scope="module")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config with the test threshold and gpiozero's mock pins."""
    p = tmp_path_factory.mktemp("cfg") / "config.toml"
    # A recording answers the one blink it shows, prompted at once (it cannot answer a random plan).
    session = '[session]\nplan = ["blink"]\nprompt_delay_s = [0.0, 0.0]\n'
    p.write_text('[matching]\nthreshold = 0.45\n[light]\npin_factory = "mock"\n' + session)
    return p


def verify(cli_config: Path, source: str, *extra: str, ref: list[str] | None = None) -> list[str]:
    ref = ref or [str(data(f"yalefaces/subject04/{c}.jpg")) for c in ("happy", "centerlight")]
    return [
        "verify",
        "--config",
        str(cli_config),
        "--reference",
        *ref,
        "--no-gate",
        "--source",
        source,
        "--gate-skip",
        "OCCLUDED_GLASSES",
        "--request-id",
        "cli-1",
        *extra,
    ]


def test_verify_source_json(cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = write_recording(live_frames("fsw_bernard3073_data2"), tmp_path / "live")  # a real live clip
    ref = [str(data("live/fsw_bernard3073_data2/ref.jpg"))]
    assert main(verify(cli_config, f"replay:{rec}", "--json", ref=ref)) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    record = lines[-1]
    validate_result(record)
    assert record["decision"] == "match" and record["request_id"] == "cli-1"
    assert record["liveness"]["pad"]["passed"] and record["liveness"]["identity"]["passed"]
    events = lines[:-1]
    assert {e["type"] for e in events} >= {"state", "guidance", "liveness", "result"}
    assert all(e["request_id"] == "cli-1" for e in events)


def test_verify_source_text_photo_attack(cli_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = write_recording(photo_attack(yale(4, "normal"), 6.5), tmp_path / "photo")
    assert main(verify(cli_config, f"replay:{rec}")) == 3
    out = capsys.readouterr().out
    assert "Silakan berkedip satu kali" in out and "(Please blink once)" in out
    assert out.strip().splitlines()[-1].startswith("failed LIVENESS_FAILED")


def test_verify_needs_probe_or_source(cli_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = str(data("yalefaces/subject04/happy.jpg"))
    assert main(["verify", "--config", str(cli_config), "--reference", ref]) == 2  # a usage error, as argparse exits
    assert "exactly one of --probe" in capsys.readouterr().err
