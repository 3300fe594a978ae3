"""The recording format (docs/recording.md): frame images plus a JSON-lines file of per-frame metadata."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from terminal.camera.frame import Frame
from terminal.errors import SourceError
from terminal.privacy import private_dir, write_image

FORMAT = "terminal-recording"
VERSION = 1
HEADER = "recording.json"
INDEX = "frames.jsonl"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".h264", ".mjpeg"}


def is_recording(path: Path) -> bool:
    """True if ``path`` is a directory written by RecordingWriter."""
    return path.is_dir() and (path / INDEX).is_file()


def read_image_rgb(path: Path) -> np.ndarray:
    """Read an image file as RGB uint8 (grey images become 3-channel); SourceError if unreadable."""
    try:
        data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    except OSError:
        data = None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if img is None:
        raise SourceError(f"{path}: cannot read frame image (missing, corrupt or not an image)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class RecordedFrame:
    """One line of frames.jsonl."""

    index: int
    file: str
    timestamp: float
    metadata: dict[str, Any]


def read_index(path: Path) -> tuple[dict[str, Any], list[RecordedFrame]]:
    """Parse a recording's header and frame index; SourceError names the file and line on failure."""
    header: dict[str, Any] = {}
    hp = path / HEADER
    if hp.is_file():
        try:
            header = json.loads(hp.read_text())
        except ValueError as err:
            raise SourceError(f"{hp}: not valid JSON: {err}") from None
        if header.get("format") != FORMAT or int(header.get("version", 0)) > VERSION:
            raise SourceError(f"{hp}: not a {FORMAT} v{VERSION} header")
    frames: list[RecordedFrame] = []
    ip = path / INDEX
    root = path.resolve()
    for lineno, line in enumerate(ip.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            rf = RecordedFrame(int(d["index"]), str(d["file"]), float(d["timestamp"]), dict(d.get("metadata", {})))
        except (ValueError, KeyError, TypeError, OverflowError) as err:
            raise SourceError(f"{ip}:{lineno}: bad frame line ({err})") from None
        _check_frame(rf, frames[-1] if frames else None, root, f"{ip}:{lineno}")
        frames.append(rf)
    return header, frames


def _check_frame(rf: RecordedFrame, previous: RecordedFrame | None, root: Path, where: str) -> None:
    """A frame file inside the recording, a finite timestamp after the previous one (timeouts run on these)."""
    target = Path(rf.file)
    if (
        not rf.file
        or target.is_absolute()
        or ".." in target.parts
        or not (root / target).resolve().is_relative_to(root)
    ):
        raise SourceError(f"{where}: frame file {rf.file[:80]!r} is outside the recording")
    if not math.isfinite(rf.timestamp):
        raise SourceError(f"{where}: timestamp is not a finite number")
    if previous is not None and not rf.timestamp > previous.timestamp:
        raise SourceError(f"{where}: timestamp {rf.timestamp} does not increase (previous {previous.timestamp})")


class RecordingWriter:
    """Writes frames into a recording directory (PNG lossless by default, JPEG to save space)."""

    def __init__(self, path: Path, source: str = "", image_format: str = "png", jpeg_quality: int = 92) -> None:
        if image_format not in ("png", "jpg"):
            raise SourceError(f"recording image format must be png or jpg, not {image_format!r}")
        path = Path(path)
        if (path / INDEX).exists():
            raise SourceError(f"{path}: already holds a recording; choose a new directory")
        if path.is_dir() and any(path.iterdir()):
            raise SourceError(f"{path}: folder is not empty; a recording needs a new or empty directory")
        if path.exists() and not path.is_dir():
            raise SourceError(f"{path}: is a file; a recording needs a new or empty directory")
        self.path = private_dir(path)
        self.image_format = image_format
        self.jpeg_quality = jpeg_quality
        self.count = 0
        header = {
            "format": FORMAT,
            "version": VERSION,
            "source": source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "image_format": image_format,
        }
        (self.path / HEADER).write_text(json.dumps(header, indent=2) + "\n")
        self._index = (self.path / INDEX).open("a", encoding="utf-8")

    def write(self, frame: Frame) -> None:
        """Append one frame and its metadata line."""
        name = f"{self.count:06d}.{self.image_format}"
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality] if self.image_format == "jpg" else []
        write_image(self.path / name, bgr, params)
        meta = {k: v for k, v in frame.metadata.items() if isinstance(v, (int, float, str, bool, list)) or v is None}
        line = {"index": self.count, "file": name, "timestamp": round(frame.timestamp, 6), "metadata": meta}
        self._index.write(json.dumps(line) + "\n")
        self.count += 1

    def close(self) -> None:
        """Flush and close the index."""
        self._index.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def list_images(folder: Path) -> list[Path]:
    """Image files of a plain folder, in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def iter_recorded(path: Path) -> Iterator[tuple[RecordedFrame, Path]]:
    """Yield (frame line, image path) pairs of a recording."""
    _, frames = read_index(path)
    for rf in frames:
        yield rf, path / rf.file
