"""The forgery figures' script (bench/bench_forgery.py) in small: every forgery refused, every genuine one accepted
(so a verifier that refuses everything fails here too)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_forgery_script_small_run() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_forgery.py"),
            "--n",
            "3",
            "--bytes",
            "4",
            "--subprocess",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    fig = json.loads(out.stdout.strip().splitlines()[-1])
    results, commands = fig["results"], fig["commands"]
    assert results["genuine accepted"]["accepted"] == 3 and results["one byte changed"]["of"] > 1000
    assert all(v["rate"] == 1.0 for v in (*results.values(), *commands.values()))
    assert commands["genuine (central key 1 or 2)"]["accepted"] == 12
    assert {v["group"] for v in commands.values()} == {"genuine", "unsigned", "wrongly signed", "expired"}
    assert all(set(v["codes"]) == {"BAD_SIGNATURE"} for v in commands.values() if v["group"] != "genuine")
    assert fig["subprocess"] == {"forged_rejected": 1, "genuine_accepted": 1, "of": 1}
