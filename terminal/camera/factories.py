"""Constructors for the built-in backends, called through terminal.camera.BACKENDS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from terminal.camera.base import FrameSource
from terminal.errors import SourceError

if TYPE_CHECKING:
    from terminal.config.schema import CameraConfig


def replay(arg: str, cfg: CameraConfig, **kw: Any) -> FrameSource:
    """A ReplaySource on ``arg`` (recording, image folder, image or video)."""
    from terminal.camera.replay import ReplaySource

    if not arg:
        raise SourceError("replay source needs a path: set camera.source or pass replay:PATH")
    return ReplaySource(
        arg, fps=cfg.fps, realtime=kw.pop("realtime", cfg.realtime), loop=kw.pop("loop", cfg.loop), **kw
    )


def opencv(arg: str, cfg: CameraConfig, **kw: Any) -> FrameSource:
    """An OpenCVSource on a device index or a video path."""
    from terminal.camera.opencv_source import OpenCVSource

    return OpenCVSource(arg or "0", width=cfg.width, height=cfg.height, fps=cfg.fps)


def picamera2(arg: str, cfg: CameraConfig, **kw: Any) -> FrameSource:
    """A Picamera2Source configured from the [camera] section."""
    from terminal.camera.picamera2_source import Picamera2Source

    return Picamera2Source(
        width=cfg.width,
        height=cfg.height,
        fps=cfg.fps,
        flicker_hz=cfg.flicker_hz,
        hflip=cfg.hflip,
        vflip=cfg.vflip,
        factory=kw.get("factory"),
    )
