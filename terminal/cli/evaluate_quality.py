"""``terminal evaluate quality DIR``: the gate's per-condition correct rates and the ok pass rate."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json, progress, skip_codes

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``evaluate quality``."""
    p = sub.add_parser("quality", help="run the quality gate over DIR/<CODE or ok>/<images>")
    p.add_argument("dir", type=Path, help="folder with one sub-folder per expected reason code, plus ok/")
    p.add_argument("--skip", default="", help="comma-separated reason codes whose checks are turned off")
    p.add_argument(
        "--relabel",
        type=Path,
        default=None,
        help="CSV file,expected that overrides the folder's expectation per image (e.g. "
        "docs/data/quality_relabel.csv: clear glasses are CLEAR_GLASSES, which must pass the glasses checks)",
    )
    p.add_argument(
        "--folds",
        choices=["source", "identity"],
        default=None,
        help="also report each source dataset (leave-one-source-out) or identity half separately",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep landmarks per image in this folder (owner-only; biometric) so re-runs skip MediaPipe",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the report."""
    from terminal.analysis.evaluation import evaluate, format_table
    from terminal.analysis.gate import QualityGate

    cfg = config_from_args(args)
    skip = skip_codes(args.skip)

    def bar(items: Iterable[Any], total: int) -> Iterable[Any]:
        return progress(items, total=total, desc="evaluate")

    from terminal.analysis.evaluation import summarise
    from terminal.analysis.folds import fold_reports, load_relabel, relabel
    from terminal.analysis.modelcache import ModelCache

    table = load_relabel(args.relabel) if args.relabel is not None else {}
    with QualityGate.from_config(cfg, mode="image", skip=skip) as gate:
        if args.cache is not None:
            gate.use_model_cache(ModelCache(args.cache))
        report, samples = evaluate(args.dir, gate, wrap=bar)
    if table:
        samples = relabel(samples, table)
        report = summarise(samples)
    folds = fold_reports(samples, args.folds) if args.folds else {}
    if args.json:
        print_json({**report, "folds": folds} if folds else report)
        return 0
    print(format_table(report))
    for name, rep in folds.items():
        print(f"\n[{args.folds} {name}]")
        print(format_table(rep))
    return 0
