"""``terminal verify``: one probe image against a reference (template JSON or images), one decision."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json
from terminal.cli.enroll import add_gate_args
from terminal.cli.reference import prepare
from terminal.cli.verify_session import add_session_args, run_source
from terminal.config.schema import Config
from terminal.errors import UsageError
from terminal.matching.enroll import VerifyResult, verify_still

log = logging.getLogger(__name__)

# Exit codes: scripts can branch on the outcome without parsing output (2 is argparse's usage error).
EXIT_MATCH = 0
EXIT_NO_MATCH = 1
EXIT_REJECTED = 3
EXIT_CODES = {"match": EXIT_MATCH, "no_match": EXIT_NO_MATCH, "rejected": EXIT_REJECTED}


def register(sub: Any) -> None:
    """Add the ``verify`` subcommand."""
    p = sub.add_parser("verify", help="verify a probe image against a reference (exit 0 match, 1 no match, 3 rejected)")
    p.add_argument(
        "--reference",
        nargs="+",
        type=Path,
        required=True,
        help="template JSON from `terminal enroll`, or one or more reference images",
    )
    p.add_argument("--probe", type=Path, default=None, help="probe image (one face); or --source for a whole session")
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="override the calibrated threshold (for experiments; the config's is used otherwise)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_gate_args(p)
    add_session_args(p)
    add_config_arg(p)
    p.set_defaults(func=run)


def run_still(args: argparse.Namespace, cfg: Config) -> VerifyResult:
    """The still-image path: ``--probe IMAGE`` against ``--reference`` (callable by other subcommand code)."""
    matcher, finder, template = prepare(args, cfg)
    try:
        return verify_still(args.probe, template, matcher, finder)
    finally:
        finder.close()


def print_result(result: VerifyResult, as_json: bool) -> None:
    """One JSON object, or one human line."""
    if as_json:
        print_json(result.to_dict())
        return
    if result.match is None:
        print(f"rejected: {', '.join(result.reasons)} (no comparison made)")
        return
    m = result.match
    rel = ">=" if m.decision == "match" else "<"
    print(f"{m.decision}: score {m.score:.4f} {rel} threshold {m.threshold:.4f} ({m.model}, {m.fusion})")


def run(args: argparse.Namespace) -> int:
    """Verify and print; the exit code tells match (0), no match (1) or rejected probe (3)."""
    if (args.probe is None) == (args.source is None):
        raise UsageError("verify needs exactly one of --probe IMAGE or --source SOURCE")
    cfg = config_from_args(args)
    if args.source is not None:
        return run_source(args, cfg)
    result = run_still(args, cfg)
    print_result(result, args.json)
    return EXIT_CODES[result.decision]
