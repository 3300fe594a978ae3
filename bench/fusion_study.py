"""Which fusion of several reference images and probe images separates best? Measured on identity folders.

Run: .venv/bin/python bench/fusion_study.py [DIR] [--splits S]
For each identity with enough images, random splits into k reference and m probe images; genuine = own
reference vs own probes, impostor = every other identity's reference vs these probes. Prints a table and JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.cli.evaluate_match import embed_dirs
from terminal.config import load_config
from terminal.matching.calibration import resolve_threshold
from terminal.matching.decision import FUSIONS, fuse_scores
from terminal.matching.metrics import PairScores, summary
from tests.support.shared import shared_root


def study(
    emb: np.ndarray, labels: list[str], k: int, m: int, splits: int, threshold: float, seed: int = 0
) -> dict[str, dict]:
    """EER and TAR@FAR for every fusion with k reference and m probe images per identity."""
    rng = np.random.default_rng(seed)
    by_id: dict[str, np.ndarray] = {}
    for ident in sorted(set(labels)):
        idx = np.flatnonzero(np.array(labels) == ident)
        if len(idx) >= k + m:
            by_id[ident] = idx
    out = {}
    gen: dict[str, list[float]] = {f: [] for f in FUSIONS}
    imp: dict[str, list[float]] = {f: [] for f in FUSIONS}
    for _ in range(splits):
        refs, probes = {}, {}
        for ident, idx in by_id.items():
            perm = rng.permutation(idx)
            refs[ident], probes[ident] = emb[perm[:k]], emb[perm[k : k + m]]
        for a, ref in refs.items():
            for b, probe in probes.items():
                for f in FUSIONS:
                    (gen if a == b else imp)[f].append(fuse_scores(probe, ref, f))
    for f in FUSIONS:
        s = summary(PairScores(np.array(gen[f]), np.array(imp[f])), ("1e-2", "1e-3"))
        out[f] = {
            "identities": len(by_id),
            "genuine": len(gen[f]),
            "impostor": len(imp[f]),
            **s,
            # the deployed threshold is calibrated on single pairs: does a fusion keep its FMR?
            "far_at_shipped": round(float(np.mean(np.array(imp[f]) >= threshold)), 6),
            "tar_at_shipped": round(float(np.mean(np.array(gen[f]) >= threshold)), 5),
        }
    return out


def main() -> int:
    """Embed once, then compare fusions for several (k, m)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", nargs="?", type=Path, default=shared_root() / "data" / "match_clean")
    ap.add_argument("--splits", type=int, default=12)
    args = ap.parse_args()
    cfg = load_config(None)
    embedder, embedded = embed_dirs(cfg, [args.dir], gate=False, skip=[])
    threshold, source = resolve_threshold(cfg, embedder)
    print(f"shipped threshold {threshold} ({source})")
    results = {}
    print(
        f"{'k ref':>5}{'m probe':>8}  {'fusion':<16}{'EER':>9}{'TAR@1e-2':>10}{'TAR@1e-3':>10}{'impostor':>10}{'FAR@th':>10}{'TAR@th':>9}"
    )
    for k, m in [(1, 1), (2, 1), (3, 1), (2, 2), (3, 2)]:
        res = study(embedded.embeddings, embedded.labels, k, m, args.splits, threshold)
        results[f"k{k}_m{m}"] = res
        for f, r in res.items():
            print(
                f"{k:>5}{m:>8}  {f:<16}{r['eer']!s:>9}{r['tar_at_far']['1e-2']!s:>10}{r['tar_at_far']['1e-3']!s:>10}"
                f"{r['impostor']:>10}{r['far_at_shipped']:>10}{r['tar_at_shipped']:>9}"
            )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
