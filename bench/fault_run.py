"""Black-box fault run (issue 11): >= 100 accepted verify commands per run under broker restarts, SIGKILLs
mid-session and right after the result event, link cuts and stalls; every accepted request must yield exactly
one result at a persistent subscriber. Usage: python bench/fault_run.py [N_ACCEPTED] [RUNS] [FIRST_SEED]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.fault_run import FaultRun  # noqa: E402
from tests.support.fixtures import live_clip_and_reference  # noqa: E402


def main() -> None:
    """Run the fault runs and print one JSON line each, then a summary."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    seed0 = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    base = Path(tempfile.mkdtemp(prefix="fault-run-"))
    clip, reference = live_clip_and_reference(base)
    out = []
    for k in range(runs):
        fig = FaultRun(base / f"run{k}", clip, reference, seed=seed0 + k).run(n)
        print(json.dumps(fig), flush=True)
        out.append(fig)
    ok = sum(f["lost"] == 0 and f["more_than_one"] == 0 and f["accepted"] >= n for f in out)
    print(f"runs with every accepted request answered exactly once: {ok} of {runs}")


if __name__ == "__main__":
    main()
