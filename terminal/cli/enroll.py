"""``terminal enroll``: make a reference template from one or more images, with the gate's verdict on each."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, ensure_parent, print_json
from terminal.matching.embedder import load_embedder
from terminal.matching.enroll import enroll_images
from terminal.matching.probe import STILL_SKIP, make_finder

log = logging.getLogger(__name__)


def add_gate_args(p: argparse.ArgumentParser, default_skip: frozenset[str] = STILL_SKIP) -> None:
    """The ``--no-gate`` and ``--skip CODE,...`` options shared by enroll, verify and evaluate."""
    p.add_argument(
        "--no-gate",
        dest="gate",
        action="store_false",
        help="use the bare landmarker instead of the quality gate (not for production)",
    )
    p.add_argument(
        "--skip",
        default=",".join(sorted(default_skip)),
        help="gate checks to skip, comma-separated reason codes (default: %(default)s)",
    )


def skip_codes(args: argparse.Namespace) -> list[str]:
    """The reason codes named by ``--skip``."""
    return [c.strip().upper() for c in str(args.skip or "").split(",") if c.strip()]


def register(sub: Any) -> None:
    """Add the ``enroll`` subcommand."""
    p = sub.add_parser("enroll", help="make a reference template (embeddings) from one or more face images")
    p.add_argument("images", nargs="+", type=Path, help="reference image(s) of one person")
    p.add_argument("--out", type=Path, required=True, help="template JSON to write (holds biometric embeddings)")
    p.add_argument(
        "--dtype",
        choices=["float16", "float32"],
        default=None,
        help="embedding dtype in the file (default: [matching] reference_dtype)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_gate_args(p)
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Embed every usable image and write the template; TemplateError NO_USABLE_IMAGE when none is usable."""
    cfg = config_from_args(args)
    embedder = load_embedder(cfg)
    from terminal.matching.decision import Matcher

    # Enrolment compares nothing, so the matcher needs no threshold; NaN guarantees it could never say "match".
    matcher = Matcher(embedder, float("nan"), fusion=cfg.matching.fusion)
    finder = make_finder(cfg, use_gate=args.gate and cfg.matching.gate_enroll, skip=skip_codes(args))
    try:
        template, reports = enroll_images(list(args.images), matcher, finder)
    finally:
        finder.close()
    dtype = args.dtype or cfg.matching.reference_dtype
    template.save(ensure_parent(args.out, private=True), dtype=dtype)
    if args.json:
        print_json(
            {
                "out": str(args.out),
                "model": template.model,
                "model_version": template.version,
                "dim": template.dim,
                "dtype": dtype,
                "count": template.count,
                "images": [r.to_dict() for r in reports],
            }
        )
    else:
        for r in reports:
            why = r.error or ", ".join(r.found.reasons if r.found else [])
            print(f"{'used   ' if r.used else 'skipped'}  {r.file}" + (f"  ({why})" if why else ""))
        print(f"wrote {args.out}: {template.count} embedding(s), {template.model}, {dtype}", file=sys.stderr)
    return 0
