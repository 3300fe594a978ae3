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

    with QualityGate.from_config(cfg, mode="image", skip=skip) as gate:
        report, _ = evaluate(args.dir, gate, wrap=bar)
    if args.json:
        print_json(report)
    else:
        print(format_table(report))
    return 0
