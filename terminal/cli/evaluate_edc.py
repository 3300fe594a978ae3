"""``terminal evaluate edc DIR``: does each quality check predict matching errors (error-versus-discard)?"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from terminal.cli.common import add_config_arg, config_from_args, print_json, progress, skip_codes
from terminal.matching.probe import RESEARCH_SKIP

log = logging.getLogger(__name__)

T = TypeVar("T")


def _bar(items: Iterable[T], total: int) -> Iterator[T]:
    return progress(items, total=total, desc="gate+embed")


def register(evaluate_sub: Any) -> None:
    """Add ``edc`` under ``terminal evaluate``."""
    p = evaluate_sub.add_parser(
        "edc", help="error-versus-discard: FNMR at the threshold as images are discarded by quality (per check)"
    )
    p.add_argument("dir", type=Path, help="folder of <identity>/<images>")
    p.add_argument(
        "--skip",
        default=",".join(sorted(RESEARCH_SKIP)),
        help="gate checks to skip (default: framing and steadiness: %(default)s)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="decision threshold (default: [matching] threshold or the shipped calibration)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep landmarks and embeddings per image in this folder (owner-only; biometric data) so "
        "re-runs after a gate change skip the models",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", type=Path, default=None, help="write the EDC curves to this PNG")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Gate and embed every image, then print the EDC report (and plot it)."""
    from terminal.analysis.gate import QualityGate
    from terminal.analysis.modelcache import ModelCache
    from terminal.matching.calibration import resolve_threshold
    from terminal.matching.edcreport import edc_report, format_edc, plot_edc
    from terminal.matching.embedder import load_embedder
    from terminal.matching.evaluation import list_identity_images
    from terminal.matching.qualityset import collect

    cfg = config_from_args(args)
    items = list_identity_images(args.dir)
    embedder = load_embedder(cfg)
    threshold = args.threshold if args.threshold is not None else resolve_threshold(cfg, embedder)[0]
    cache = ModelCache(args.cache) if args.cache is not None else None
    with QualityGate.from_config(cfg, mode="image", skip=skip_codes(args.skip)) as gate:
        if cache is not None:
            gate.use_model_cache(cache)
        records = collect(items, gate, embedder, cache, progress=_bar)
    rep = edc_report(records, threshold)
    if args.plot is not None:
        plot_edc(rep, args.plot, title=f"{args.dir.name}: EDC at threshold {threshold}")
    if args.json:
        print_json(rep)
    else:
        print(format_edc(rep))
    if args.plot is not None:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
