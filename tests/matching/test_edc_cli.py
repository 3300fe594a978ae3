"""`terminal evaluate edc` on a small real set, with the opt-in model cache."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from terminal.cli.main import main
from tests.matching.test_cli import small_set


@pytest.mark.slow
def test_evaluate_edc_json_plot_and_cache(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = small_set(tmp_path / "set")
    cache, png = tmp_path / "cache", tmp_path / "edc.png"
    argv = ["evaluate", "edc", str(d), "--json", "--cache", str(cache), "--plot", str(png)]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["images"] == first["with_face"] + first["no_face"] and first["genuine_pairs"] > 0
    assert first["unified"]["curve"][0][0] == 0.0 and "BLURRY" in first["checks"]
    assert {"fnmr_kept", "fnmr_discarded", "verdict", "gate_without_it"} <= set(first["checks"]["BLURRY"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    files = [p for p in cache.rglob("*.npz")]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    # The second run answers from the cache and gives the same report.
    assert main(argv[:-2]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again == first
