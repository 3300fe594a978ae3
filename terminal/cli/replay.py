"""``terminal replay``: play a recording, folder, image or video and print one JSON line per frame."""

from __future__ import annotations

import argparse
import time
from typing import Any

from terminal.camera import mean_luma, open_source
from terminal.cli.common import add_config_arg, config_from_args, print_json


def register(sub: Any) -> None:
    """Add the ``replay`` subcommand."""
    p = sub.add_parser("replay", help="replay recorded frames, one JSON line per frame")
    p.add_argument("source", help="recording dir, image folder, image, video, or a source spec (replay:, sim:)")
    p.add_argument("--realtime", action="store_true", help="pace frames at their recorded times")
    p.add_argument("--loop", action="store_true", help="start again at the end (stop with Ctrl-C)")
    p.add_argument("--frames", type=int, default=None, help="stop after N frames")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print timestamp, size and brightness of each frame; a summary line goes to stderr."""
    cfg = config_from_args(args)
    n = 0
    start = time.perf_counter()
    with open_source(args.source, cfg.camera, realtime=args.realtime, loop=args.loop) as src:
        for frame in src:
            print_json({"index": frame.index, "timestamp": round(frame.timestamp, 4), "width": frame.width,
                        "height": frame.height, "brightness": round(mean_luma(frame.image), 1)})
            n += 1
            if args.frames is not None and n >= args.frames:
                break
    elapsed = time.perf_counter() - start
    import sys

    print(f"replayed {n} frames in {elapsed:.2f} s ({n / elapsed if elapsed else 0:.0f} frames/s)", file=sys.stderr)
    return 0
