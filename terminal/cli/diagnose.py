"""``terminal diagnose``: the field technician's self-test; a pass/fail table (or JSON), non-zero on any failure."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args
from terminal.diagnostics.runner import CHECKS, run_diagnostics

EXIT_FAILED = 1


def register(sub: Any) -> None:
    """Add the ``diagnose`` subcommand."""
    p = sub.add_parser("diagnose", help="self-test: camera, light, models, MQTT, outbox, disk, clock, temperature")
    p.add_argument("--json", action="store_true", help="print the report as one JSON document")
    p.add_argument(
        "--snapshot",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write an annotated frame (landmarks, pose, light level) to FILE (a face image!)",
    )
    p.add_argument(
        "--source",
        default=None,
        help="frame source instead of [camera] (e.g. replay:DIR, or sim:IMAGE lit by the light)",
    )
    p.add_argument("--only", default=None, help=f"comma-separated checks to run (of {', '.join(CHECKS)})")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks; exit 0 when none failed, 1 otherwise (warnings do not fail)."""
    cfg = config_from_args(args)
    only = [c.strip() for c in args.only.split(",") if c.strip()] if args.only else None
    if only is not None:
        unknown = sorted(set(only) - set(CHECKS))
        if unknown:
            print(
                f"terminal diagnose: unknown check(s) {', '.join(unknown)} (known: {', '.join(CHECKS)})",
                file=sys.stderr,
            )
            return 2
    report = run_diagnostics(cfg, source_spec=args.source, snapshot=args.snapshot, only=only)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.table())
    return 0 if report.ok else EXIT_FAILED
