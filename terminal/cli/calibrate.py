"""``terminal calibrate DIR --fmr 1e-3``: the decision threshold for a target false-match rate, as config."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, ensure_parent
from terminal.cli.enroll import skip_codes
from terminal.cli.evaluate_match import add_dataset_args, embed_dirs
from terminal.errors import UsageError
from terminal.matching.calibration import SHIPPED_PATH, calibration_record, config_snippet, load_shipped

log = logging.getLogger(__name__)

REPORTED_FMRS = [1e-2, 1e-3, 1e-4]


def register(sub: Any) -> None:
    """Add the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="compute the match threshold for a target false-match rate "
        "(`calibrate pad DIR`: the PAD threshold for a target BPCER)",
    )
    p.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        help="folder(s) of <identity>/<images> (several are merged); "
        "or `pad DIR` with DIR/live and DIR/ref as `terminal evaluate pad` reads them",
    )
    p.add_argument("--bpcer", type=float, default=None, help="calibrate pad: target live rejection rate (0.05)")
    p.add_argument(
        "--margin",
        type=float,
        default=None,
        help="calibrate pad: set the threshold this far below the live score found (0.05; few live items)",
    )
    p.add_argument("--fmr", type=float, default=None, help="target false-match rate (default: [matching] target_fmr)")
    p.add_argument(
        "--bound",
        choices=["clopper-pearson", "identity-bootstrap"],
        default="clopper-pearson",
        help="upper bound the threshold must meet: binomial over all impostor pairs (default) or, "
        "stricter, resampling people (false matches cluster on look-alike people)",
    )
    add_dataset_args(p)
    p.add_argument("--out", type=Path, default=None, help="write the TOML snippet here (default: stdout)")
    p.add_argument("--record", type=Path, default=None, help="also write the full calibration record as JSON")
    p.add_argument(
        "--write-shipped",
        action="store_true",
        help=f"store the record as this model's shipped default ({SHIPPED_PATH.name}; maintainers only)",
    )
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Embed the data, pick the threshold at the target FMR and write the snippet (plus the record)."""
    if str(args.dirs[0]) == "pad" and not args.dirs[0].is_dir():
        from terminal.cli.evaluate_pad import run_calibrate

        return run_calibrate(args)
    cfg = config_from_args(args)
    fmr = args.fmr if args.fmr is not None else cfg.matching.target_fmr
    if not 0 < fmr < 1:
        raise UsageError(f"--fmr must be between 0 and 1, got {fmr}")
    embedder, embedded = embed_dirs(cfg, list(args.dirs), args.gate, skip_codes(args), cache_dir=args.cache)
    scores = embedded.scores()
    if len(scores.impostor) == 0 or len(scores.genuine) == 0:
        from terminal.matching.evaluation import DatasetError

        raise DatasetError("calibration needs at least two identities and one identity with two usable images")
    fmrs = sorted(set(REPORTED_FMRS) | {fmr}, reverse=True)
    data = [f"{d.parent.name}/{d.name}" for d in args.dirs]
    record = calibration_record(
        embedder,
        scores,
        fmrs,
        data,
        args.gate,
        embedded.counts(),
        skip=skip_codes(args) if args.gate else [],
        target_fmr=fmr,
        embeddings=embedded.embeddings,
        labels=embedded.labels,
        bound=args.bound,
    )
    snippet = config_snippet(record, fmr)
    if args.out is not None:
        ensure_parent(args.out).write_text(snippet)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(snippet)
    if args.record is not None:
        ensure_parent(args.record).write_text(json.dumps(record, indent=1) + "\n")
    if args.write_shipped:
        shipped = load_shipped()
        shipped[embedder.name] = record
        SHIPPED_PATH.write_text(json.dumps({"models": shipped}, indent=1) + "\n")
        print(f"updated {SHIPPED_PATH}", file=sys.stderr)
    return 0
