"""``terminal evaluate pad DIR`` and ``terminal calibrate pad DIR``: attacks vs live over the documented layout."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json, progress, skip_codes
from terminal.config.schema import Config
from terminal.pad.evaluate import Outcome, PadEvaluator, list_items, summarise

log = logging.getLogger(__name__)


def register_pad(evaluate_sub: Any) -> None:
    """Add ``pad`` under ``terminal evaluate``."""
    p = evaluate_sub.add_parser("pad", help="presentation attacks: APCER per attack kind, BPCER (docs/liveness.md)")
    p.add_argument("dir", type=Path, help="folder with live/, attack/<kind>/ and ref/ (docs/liveness.md)")
    p.add_argument("--json", action="store_true", help="print one JSON object (every item's decision included)")
    p.add_argument("--skip", default="", help="gate checks to skip in the sessions, comma-separated")
    add_config_arg(p)
    p.set_defaults(func=run_evaluate)


def evaluate_dir(cfg: Config, root: Path, skip: list[str], live_only: bool = False) -> list[Outcome]:
    """Run every item of ``root`` (only the live ones with ``live_only``)."""
    from terminal.matching.factory import build_matcher
    from terminal.matching.probe import make_finder
    from terminal.pad.factory import load_pad_backend

    items = [i for i in list_items(root) if i.live or not live_only]
    matcher = build_matcher(cfg)
    finder = make_finder(cfg, use_gate=False, strict=False)
    try:
        ev = PadEvaluator(cfg, root, matcher, finder, load_pad_backend(cfg), skip=tuple(skip))
        return [ev.run(item) for item in progress(items, total=len(items), desc="pad")]
    finally:
        finder.close()


def run_evaluate(args: argparse.Namespace) -> int:
    """Print APCER per kind, worst APCER, BPCER and each item's decision."""
    cfg = config_from_args(args)
    summary = summarise(evaluate_dir(cfg, args.dir, skip_codes(args.skip)))
    if args.json:
        print_json(summary)
        return 0
    print(f"{'kind':24s} {'n':>3s} {'accepted':>8s} {'APCER':>7s}")
    for kind, a in summary["apcer"].items():
        print(f"{kind:24s} {a['n']:3d} {a['accepted']:8d} {a['apcer']:7.1%}")
    live = summary["live"]
    if summary["worst_apcer"] is not None:
        print(f"worst-case APCER {summary['worst_apcer']:.1%}")
    if summary["bpcer"] is not None:
        print(
            f"BPCER {summary['bpcer']:.1%} ({live['refused']} of {live['n']} live refused by liveness/PAD; "
            f"{live['matched']} matched; median decision {summary['live_decision_median_s']} s)"
        )
    for row in summary["items"]:
        print(
            f"  {row['kind']:22s} {row['item']:36s} {row['decision']:9s} {row['reason_code'] or '':18s} "
            f"pad={row['pad_score']}"
        )
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    """``terminal calibrate pad DIR --bpcer 0.05``: the PAD threshold from the live items' fused scores."""
    from terminal.errors import ConfigError
    from terminal.pad.calibration import CALIBRATION_PATH, threshold_for_bpcer, write_calibration
    from terminal.pad.factory import load_pad_backend

    if len(args.dirs) != 2:
        raise ConfigError("usage: terminal calibrate pad DIR [--bpcer 0.05] (DIR with live/ and ref/)")
    root = args.dirs[1]
    cfg = config_from_args(args)
    target = 0.05 if args.bpcer is None else args.bpcer
    if not 0 <= target < 1:
        raise ConfigError(f"--bpcer must be in [0, 1), got {target}")
    cfg = cfg.model_copy(update={"pad": cfg.pad.model_copy(update={"threshold": 0.0})})  # score, never refuse
    outcomes = evaluate_dir(cfg, root, [], live_only=True)
    scores = [o.pad_score for o in outcomes if o.pad_score is not None]
    margin = 0.05 if args.margin is None else args.margin
    threshold = round(threshold_for_bpcer(scores, target, margin), 4)
    name = load_pad_backend(cfg).name
    entry = {
        "threshold": threshold,
        "target_bpcer": target,
        "margin": margin,
        "n_live": len(scores),
        "live_min": round(min(scores), 4),
        "data": str(root),
    }
    sys.stdout.write(
        f"[pad]\nthreshold = {threshold}  # {name}: BPCER <= {target} on {len(scores)} live items of {root}\n"
    )
    if args.write_shipped:
        write_calibration(name, entry)
        print(f"updated {CALIBRATION_PATH}", file=sys.stderr)
    return 0
