"""Replay backend: plays a recording, a plain folder of images, one image or a video file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.camera.recording import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    is_recording,
    list_images,
    read_image_rgb,
    read_index,
)
from terminal.errors import SourceError


class ReplaySource(FrameSource):
    """Frames from disk, timestamped from the recording (or ``index / fps``), at maximum or recorded speed.

    Time comes from the recording, never from the wall clock, so a replayed session is deterministic.
    With ``loop`` the stream restarts at the end and timestamps keep increasing.
    """

    name = "replay"

    def __init__(
        self, path: str | Path, fps: float = 30.0, realtime: bool = False, loop: bool = False, repeat: int = 1
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.fps = fps
        self.realtime = realtime
        self.loop = loop
        self.repeat = max(1, repeat)
        self._items: list[tuple[Path, float, dict[str, Any]]] = []
        self._video: cv2.VideoCapture | None = None
        self._pos = 0
        self._lap = 0
        self._lap_offset = 0.0
        self._index = 0
        self._t0_wall: float | None = None
        self._t0_frame = 0.0
        self._last_t = 0.0
        self.kind = ""

    def describe(self) -> dict[str, Any]:
        """Backend, path and what kind of input it is."""
        return {"backend": self.name, "path": str(self.path), "kind": self.kind, "frames": len(self._items) or None}

    def _start(self) -> None:
        p = self.path
        if not p.exists():
            raise SourceError(f"{p}: no such recording, folder, image or video")
        if is_recording(p):
            self.kind = "recording"
            _, frames = read_index(p)
            self._items = [(p / f.file, f.timestamp, f.metadata) for f in frames]
        elif p.is_dir():
            self.kind = "folder"
            self._items = [(f, i / self.fps, {}) for i, f in enumerate(list_images(p))]
        elif p.suffix.lower() in IMAGE_SUFFIXES:
            self.kind = "image"
            self._items = [(p, 0.0, {})]
        elif p.suffix.lower() in VIDEO_SUFFIXES:
            self.kind = "video"
            self._video = cv2.VideoCapture(str(p))
            if not self._video.isOpened():
                raise SourceError(f"{p}: cannot open video file")
            vfps = self._video.get(cv2.CAP_PROP_FPS)
            if vfps and vfps > 0:
                self.fps = float(vfps)
        else:
            raise SourceError(f"{p}: not a recording, an image folder, an image or a video ({p.suffix or 'no suffix'})")
        if self.kind != "video" and not self._items:
            raise SourceError(f"{p}: holds no frames")
        self._pos = 0
        self._lap = 0

    def _stop(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None

    def _next_item(self) -> tuple[Any, float, dict[str, Any]] | None:
        if self._video is not None:
            ok, bgr = self._video.read()
            if not ok:
                return None
            t = self._pos / self.fps
            self._pos += 1
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t, {}
        if self._pos >= len(self._items):
            return None
        path, t, meta = self._items[self._pos]
        self._pos += 1
        return read_image_rgb(path), t, meta

    def _rewind(self, last_t: float) -> None:
        self._lap += 1
        self._lap_offset += last_t + 1.0 / self.fps
        self._pos = 0
        if self._video is not None:
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def _read(self) -> Frame | None:
        item = self._next_item()
        if item is None and (self.loop or self._lap + 1 < self.repeat):
            last_t = self._last_t
            self._rewind(last_t)
            item = self._next_item()
        if item is None:
            return None
        image, t, meta = item
        self._last_t = t
        ts = self._lap_offset + t
        if self.realtime:
            self._pace(ts)
        md = dict(meta)
        md.update(self._controls)
        frame = Frame(image=image, timestamp=ts, index=self._index, metadata=md)
        self._index += 1
        return frame

    def _pace(self, ts: float) -> None:
        now = time.monotonic()
        if self._t0_wall is None:
            self._t0_wall, self._t0_frame = now, ts
            return
        delay = (ts - self._t0_frame) - (now - self._t0_wall)
        if delay > 0:
            time.sleep(delay)
