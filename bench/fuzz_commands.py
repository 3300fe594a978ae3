"""Fuzz run (issue 11): >= 2,000 hostile commands (huge integers, deep nesting, wrong types, broken bytes, a
diagnose flood) at ``terminal run`` with a full disk in the middle; 0 link deaths, 0 missed watchdog pings
(from NOTIFY_SOCKET), every command answered. Usage: python bench/fuzz_commands.py [N] [SEED]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.fixtures import live_clip_and_reference  # noqa: E402
from tests.support.fuzz_run import FuzzRun  # noqa: E402


def main() -> None:
    """One fuzz run; prints its figures as JSON."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    base = Path(tempfile.mkdtemp(prefix="fuzz-run-"))
    clip, reference = live_clip_and_reference(base)
    print(json.dumps(FuzzRun(base / "run", clip, reference, seed=seed).run(n)), flush=True)


if __name__ == "__main__":
    main()
