"""``terminal replay``: play a recording, folder, image or video and print one JSON line per frame."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from terminal.camera import mean_luma, open_source
from terminal.cli.common import add_config_arg, config_from_args, print_json, skip_codes
from terminal.config import Config

if TYPE_CHECKING:
    from terminal.analysis.gate import QualityGate


def register(sub: Any) -> None:
    """Add the ``replay`` subcommand."""
    p = sub.add_parser("replay", help="replay recorded frames, one JSON line per frame")
    p.add_argument("source", help="recording dir, image folder, image, video, or a source spec (replay:, sim:)")
    p.add_argument("--realtime", action="store_true", help="pace frames at their recorded times")
    p.add_argument("--loop", action="store_true", help="start again at the end (stop with Ctrl-C)")
    p.add_argument("--frames", type=int, default=None, help="stop after N frames")
    p.add_argument("--analyze", action="store_true", help="add the quality gate's verdict to each line")
    p.add_argument("--skip", default="", help="with --analyze: comma-separated reason codes to turn off")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print timestamp, size and brightness of each frame; a summary line goes to stderr."""
    cfg = config_from_args(args)
    n = 0
    start = time.perf_counter()
    gate = _gate(cfg, args) if getattr(args, "analyze", False) else None
    with open_source(args.source, cfg.camera, realtime=args.realtime, loop=args.loop) as src:
        for frame in src:
            line: dict[str, Any] = {
                "index": frame.index,
                "timestamp": round(frame.timestamp, 4),
                "width": frame.width,
                "height": frame.height,
                "brightness": round(mean_luma(frame.image), 1),
            }
            if gate is not None:
                line["verdict"] = gate.analyze(frame.image, frame.timestamp).to_dict()
            print_json(line)
            n += 1
            if args.frames is not None and n >= args.frames:
                break
    if gate is not None:
        gate.close()
    elapsed = time.perf_counter() - start
    import sys

    print(f"replayed {n} frames in {elapsed:.2f} s ({n / elapsed if elapsed else 0:.0f} frames/s)", file=sys.stderr)
    return 0


def _gate(cfg: Config, args: argparse.Namespace) -> QualityGate:
    """The quality gate in VIDEO mode (frames are a stream with timestamps)."""
    from terminal.analysis.gate import QualityGate

    skip = skip_codes(args.skip)
    return QualityGate.from_config(cfg, mode="video", skip=skip)
