"""``terminal analyze IMAGE_OR_DIR...``: the quality gate's verdict for each image."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json, progress, skip_codes
from terminal.errors import SourceError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``analyze`` subcommand."""
    p = sub.add_parser("analyze", help="quality-gate verdict for images or folders of images")
    p.add_argument("paths", nargs="+", type=Path, metavar="IMAGE_OR_DIR")
    p.add_argument("--json", action="store_true", help="one JSON line per image")
    p.add_argument(
        "--annotate",
        type=Path,
        default=None,
        metavar="DIR",
        help="write copies with landmarks, head-pose axes and failing codes drawn on them",
    )
    p.add_argument("--skip", default="", help="comma-separated reason codes whose checks are turned off")
    p.add_argument("--lang", choices=["id", "en"], default="id", help="language of the guidance text")
    add_config_arg(p)
    p.set_defaults(func=run)


def iter_images(paths: list[Path]) -> Iterator[Path]:
    """Each image named, and the images inside each folder named (sorted, not recursive).

    A folder without images is said on stderr (one line) and skipped; a path that does not exist is a
    SourceError.
    """
    from terminal.camera.recording import IMAGE_SUFFIXES

    for p in paths:
        if p.is_dir():
            found = sorted(x for x in p.iterdir() if x.suffix.lower() in IMAGE_SUFFIXES and x.is_file())
            if not found:
                print(
                    f"{p}: no images in this folder (looked for {', '.join(sorted(IMAGE_SUFFIXES))})", file=sys.stderr
                )
            yield from found
        elif p.is_file():
            yield p
        else:
            raise SourceError(f"{p}: no such image or folder")


def run(args: argparse.Namespace) -> int:
    """Print a verdict per image; exit 0 if every image passed, 1 otherwise (also when one was unreadable)."""
    from terminal.analysis.annotate import write_annotated
    from terminal.analysis.gate import QualityGate
    from terminal.camera.recording import read_image_rgb

    cfg = config_from_args(args)
    skip = skip_codes(args.skip)
    images = list(iter_images(args.paths))
    if not images:
        raise SourceError("no images to analyze")
    all_passed = True
    unreadable = 0
    with QualityGate.from_config(cfg, mode="image", skip=skip) as gate:
        for path in progress(images, total=len(images), desc="analyze"):
            try:
                image = read_image_rgb(path)
            except SourceError as err:  # one bad file does not stop the batch
                unreadable += 1
                all_passed = False
                if args.json:
                    print_json({"path": str(path), "error": str(err)})
                else:
                    print(f"{path}: UNREADABLE (missing, corrupt or not an image)")
                continue
            verdict = gate.analyze(image)
            all_passed &= verdict.passed
            if args.json:
                print_json({"path": str(path), **verdict.to_dict()})
            else:
                status = "PASS" if verdict.passed else "FAIL " + ",".join(verdict.failures)
                if verdict.advisories:
                    status += " advisory " + ",".join(verdict.advisories)
                hint = f"  -> {verdict.message(args.lang)}" if verdict.instruction else ""
                print(f"{path}: {status} (quality {verdict.quality:.2f}){hint}")
            if args.annotate is not None:
                write_annotated(args.annotate / f"{path.stem}.jpg", image, verdict)
    if unreadable:
        print(f"{unreadable} of {len(images)} image(s) could not be read", file=sys.stderr)
    return 0 if all_passed else 1
