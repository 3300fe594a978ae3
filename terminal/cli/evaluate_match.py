"""``terminal evaluate match DIR``: genuine/impostor accuracy of the matcher over identity folders."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from terminal.cli.common import add_config_arg, config_from_args, print_json, progress
from terminal.cli.enroll import skip_codes
from terminal.config.schema import Config
from terminal.errors import ConfigError
from terminal.matching.embedder import Embedder, load_embedder
from terminal.matching.evaluation import EmbeddedSet, embed_dataset, list_identity_images, report
from terminal.matching.probe import RESEARCH_SKIP, make_finder

log = logging.getLogger(__name__)

T = TypeVar("T")


def _bar(items: Iterable[T], total: int) -> Iterator[T]:
    return progress(items, total=total, desc="embed")


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    """``--gate`` and ``--skip`` for dataset commands (evaluate match, calibrate)."""
    p.add_argument("--gate", action="store_true", help="drop images the quality gate rejects before scoring")
    p.add_argument(
        "--skip",
        default=",".join(sorted(RESEARCH_SKIP)),
        help="gate checks to skip, comma-separated (default: framing and steadiness, which small "
        "research images cannot meet: %(default)s)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep landmarks and embeddings per image in this folder (owner-only; biometric data) so "
        "re-runs skip the models",
    )


def embed_dirs(
    cfg: Config,
    dirs: list[Path],
    gate: bool,
    skip: list[str],
    embedder: Embedder | None = None,
    cache_dir: Path | None = None,
) -> tuple[Embedder, EmbeddedSet]:
    """Embed every image under ``dirs`` (one ``<identity>/<image>`` seen twice counts once), in memory only."""
    emb = embedder or load_embedder(cfg)
    seen: set[tuple[str, str]] = set()
    items = []
    for d in dirs:
        for ident, path in list_identity_images(d):
            if (ident, path.name) not in seen:  # match_hard contains match_clean: do not pair an image with itself
                seen.add((ident, path.name))
                items.append((ident, path))
    finder = make_finder(cfg, use_gate=gate, skip=skip, strict=False)
    cache = None
    if cache_dir is not None:
        from terminal.analysis.landmarker import FaceLandmarker
        from terminal.analysis.modelcache import CachedLandmarker, ModelCache

        cache = ModelCache(cache_dir)
        if finder.gate is not None:
            finder.gate.use_model_cache(cache)
        else:
            finder.landmarker = cast(FaceLandmarker, CachedLandmarker(finder.landmarker, cache))
    try:
        embedded = embed_dataset(items, emb, finder, progress=_bar, cache=cache)
    finally:
        finder.close()
    return emb, embedded


def register_match(evaluate_sub: Any) -> None:
    """Add ``match`` under ``terminal evaluate``."""
    p = evaluate_sub.add_parser("match", help="matching accuracy over <identity>/<images> folders (EER, TAR@FAR)")
    p.add_argument("dir", type=Path, help="folder of <identity>/<images>")
    add_dataset_args(p)
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="operating threshold for the *_at_threshold rates (default: [matching] threshold or the "
        "shipped calibration)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", type=Path, default=None, help="write the ROC and score histograms to this PNG")
    add_config_arg(p)
    p.set_defaults(func=run)


register = register_match  # the evaluate parent command calls register(sub) on each of its sub-modules


def run(args: argparse.Namespace) -> int:
    """Embed, score all pairs, print the summary (and plot it)."""
    cfg = config_from_args(args)
    embedder, embedded = embed_dirs(cfg, [args.dir], args.gate, skip_codes(args), cache_dir=args.cache)
    scores = embedded.scores()
    from terminal.matching.calibration import resolve_threshold

    threshold = args.threshold
    if threshold is None:
        try:
            threshold = resolve_threshold(cfg, embedder)[0]
        except ConfigError as err:  # no calibration for this model yet: report accuracy, rates stay null
            log.warning("no operating threshold, *_at_threshold rates are null: %s", err)
    out = report(embedded, scores, threshold)
    if args.plot is not None:
        from terminal.matching.plot import plot_roc

        title = f"{args.dir.name}: {embedder.name}{' (gate)' if args.gate else ''}, EER {out['eer']}"
        plot_roc(scores, args.plot, title=title, thresholds=out["threshold_at_far"])
    if args.json:
        print_json(out)
        return 0
    print(
        f"{args.dir}: {out['images']} images of {out['identities']} identities; embedded {out['embedded']}, "
        f"no face {out['no_face']}, rejected by gate {out['rejected_by_gate']}"
    )
    if embedded.rejections:
        print("  gate rejections: " + ", ".join(f"{k} {v}" for k, v in sorted(embedded.rejections.items())))
    print(f"  {out['genuine_pairs']} genuine / {out['impostor_pairs']} impostor pairs; EER {out['eer']}")
    for key, tar in out["tar_at_far"].items():
        print(f"  FAR {key}: TAR {tar} at threshold {out['threshold_at_far'][key]}")
    print(
        f"  at threshold {threshold}: FMR {out['fmr_at_threshold']}, FNMR {out['fnmr_at_threshold']}; "
        f"failure to acquire {out['fta_rate']} (no face {out['no_face_rate']}, gate {out['gate_rejected_rate']}); "
        f"GFRR {out['gfrr_at_threshold']}, GFAR {out['gfar_at_threshold']}"
    )
    if args.plot is not None:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
