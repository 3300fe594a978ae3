"""``terminal record``: write a recording (frames + metadata) from any frame source."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from terminal.camera import open_source
from terminal.camera.recording import RecordingWriter
from terminal.cli.common import add_config_arg, config_from_args, progress

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``record`` subcommand."""
    p = sub.add_parser("record", help="record frames and metadata from a source into a directory")
    p.add_argument("--source", default="camera", help="camera, picamera2, opencv:0, replay:PATH, sim:IMAGE or a path")
    p.add_argument("--out", type=Path, required=True, help="new directory for the recording")
    p.add_argument("--frames", type=int, default=None, help="stop after N frames")
    p.add_argument("--seconds", type=float, default=None, help="stop after S seconds of frame time")
    p.add_argument("--format", choices=["png", "jpg"], default="png", help="frame image format (png is lossless)")
    add_config_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Copy frames from the source into a recording until a limit or the end of the source."""
    cfg = config_from_args(args)
    limit = args.frames if args.frames is not None else (None if args.seconds else 300)
    with (
        open_source(args.source, cfg.camera) as src,
        RecordingWriter(args.out, source=args.source, image_format=args.format) as rec,
    ):
        t0: float | None = None
        for frame in progress(src, total=limit, desc="record"):
            t0 = frame.timestamp if t0 is None else t0
            if args.seconds is not None and frame.timestamp - t0 > args.seconds:
                break
            rec.write(frame)
            if limit is not None and rec.count >= limit:
                break
    print(f"recorded {rec.count} frames to {args.out}")
    return 0
