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
    p.add_argument(
        "--live-plan",
        default=None,
        help="fixed plan of the live items, e.g. blink or blink,blink (a recording cannot answer a random prompt)",
    )
    p.add_argument("--live-delay", type=float, default=None, help="fixed prompt delay (s) of the live items")
    p.add_argument("--seed", type=int, default=None, help="seed of the attacks' plan draws (default: the CSPRNG)")
    add_config_arg(p)
    p.set_defaults(func=run_evaluate)


def split_configs(
    cfg: Config, live_plan: str | None, live_delay: float | None, seed: int | None
) -> tuple[Config, Config]:
    """(attack config, live config): the attacks keep the configured random plan (``seed`` fixes the draws); the
    live items get ``live_plan`` / ``live_delay`` when given, because a recording cannot answer a random prompt."""
    attack = cfg if seed is None else _session(cfg, seed=seed)
    live: dict[str, Any] = {}
    if live_plan:
        live["plan"] = tuple(x.strip() for x in live_plan.split(",") if x.strip())
    if live_delay is not None:
        live["prompt_delay_s"] = (live_delay, live_delay)
    return attack, (_session(attack, **live) if live else attack)


def _session(cfg: Config, **update: Any) -> Config:
    from terminal.session.settings import SessionConfig

    session = SessionConfig.model_validate({**cfg.session.model_dump(), **update})  # validated (one-line errors)
    return cfg.model_copy(update={"session": session})


def evaluate_dir(
    cfg: Config, root: Path, skip: list[str], live_only: bool = False, live_cfg: Config | None = None
) -> list[Outcome]:
    """Run every item of ``root`` (only the live ones with ``live_only``); live items with ``live_cfg``."""
    from terminal.matching.factory import build_matcher
    from terminal.matching.probe import make_finder
    from terminal.pad.factory import load_pad_backend

    items = [i for i in list_items(root) if i.live or not live_only]
    matcher = build_matcher(cfg)
    finder = make_finder(cfg, use_gate=False, strict=False)
    try:
        ev = PadEvaluator(cfg, root, matcher, finder, load_pad_backend(cfg), skip=tuple(skip), live_cfg=live_cfg)
        return [ev.run(item) for item in progress(items, total=len(items), desc="pad")]
    finally:
        finder.close()


def run_evaluate(args: argparse.Namespace) -> int:
    """Print APCER per kind, worst APCER, BPCER and each item's decision."""
    attack_cfg, live_cfg = split_configs(config_from_args(args), args.live_plan, args.live_delay, args.seed)
    summary = summarise(evaluate_dir(attack_cfg, args.dir, skip_codes(args.skip), live_cfg=live_cfg))
    summary["plans"] = {"attack": _plan_text(attack_cfg), "live": _plan_text(live_cfg)}
    if args.json:
        print_json(summary)
        return 0
    print(f"plans: attacks {summary['plans']['attack']}; live {summary['plans']['live']}")
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
    # Recordings cannot answer a random prompt: each live item answers one blink, prompted at once.
    cfg = _session(cfg, plan=("blink",), prompt_delay_s=(0.0, 0.0))
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


def _plan_text(cfg: Config) -> str:
    """The plan and prompt delay a config gives, in words (stated with every evaluation)."""
    s = cfg.session
    lo, hi = s.prompt_delay_s
    delay = f"{lo:g} s" if lo == hi else f"{lo:g}-{hi:g} s"
    if s.plan is not None:
        plan = "fixed " + ",".join(s.plan)
    else:
        plan = f"{s.blinks_min}-{s.blinks_max} blinks{' + a head turn' if s.head_turn else ''}"
        plan += " (CSPRNG)" if s.seed is None else f" (seed {s.seed})"
    return f"{plan}, prompt delay {delay}"
