"""Keeps a frame source open: reopens it with backoff after an error, measures its frame rate."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.errors import TerminalError

log = logging.getLogger(__name__)


class CameraSupervisor:
    """Wraps a source factory: ``read()`` returns a frame, or None while the camera is down.

    A failing camera (unplugged, busy, driver error, a finite source that ended) is closed, reported once,
    and reopened after a delay that doubles up to ``retry_max_s``; the caller keeps serving meanwhile.
    A camera that *hangs* inside ``read()`` is not caught here on purpose: the frame loop then stops
    pinging the systemd watchdog, which restarts the service.
    """

    def __init__(
        self,
        factory: Callable[[], FrameSource],
        retry_min_s: float = 1.0,
        retry_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.factory = factory
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self._clock = clock
        self.source: FrameSource | None = None
        self.state = "closed"
        self.error: str | None = None
        self.failures = 0
        self.frames = 0
        self.fps = 0.0
        self._retry_at = 0.0
        self._delay = retry_min_s
        self._last_wall: float | None = None
        self._last_ts: float | None = None
        self._ts_offset = 0.0

    def read(self) -> Frame | None:
        """Next frame, or None while down (then ``retry_in()`` says when the next attempt is)."""
        if self.source is None:
            if self._clock() < self._retry_at:
                return None
            self._open()
            if self.source is None:
                return None
        assert self.source is not None
        try:
            frame = self.source.read()
            if frame is None:
                raise EOFError("the source ended")
        except (TerminalError, OSError, RuntimeError, EOFError) as err:
            self._fail(f"camera stopped: {err}")
            return None
        self._count()
        self._monotonic(frame)
        return frame

    def _monotonic(self, frame: Frame) -> None:
        # A reopened source (a replay restarting at 0, a camera whose clock reset) must not go back in time:
        # the watchdog, the landmarker's VIDEO mode and the session clock all need increasing timestamps.
        if self._last_ts is not None and frame.timestamp + self._ts_offset <= self._last_ts:
            self._ts_offset = self._last_ts + 1e-3 - frame.timestamp
        frame.timestamp += self._ts_offset
        self._last_ts = frame.timestamp

    def retry_in(self) -> float:
        """Seconds until the next reopen attempt (0 when up)."""
        return 0.0 if self.source is not None else max(0.0, self._retry_at - self._clock())

    def describe(self) -> dict[str, Any]:
        """State for health and STATUS=: up/down, error, fps, backend."""
        d: dict[str, Any] = {
            "state": self.state,
            "fps": round(self.fps, 1),
            "frames": self.frames,
            "failures": self.failures,
        }
        if self.error:
            d["error"] = self.error
        if self.source is not None:
            d.update(self.source.describe())
        return d

    def close(self) -> None:
        """Stop and release the camera."""
        if self.source is not None:
            try:
                self.source.stop()
            except Exception as err:  # closing a broken driver must not mask the shutdown
                log.warning("camera close failed: %s", err)
            self.source = None
        self.state = "closed"

    def _open(self) -> None:
        try:
            src = self.factory()
            src.start()
        except (TerminalError, OSError, RuntimeError) as err:
            self._fail(f"camera unavailable: {err}")
            return
        self.source = src
        if self.state == "down":
            log.warning(
                "camera is back after %d failed attempt(s)", self.failures, extra={"journal": {"RESULT": "camera_up"}}
            )
        self.state = "up"
        self.error = None
        self._delay = self.retry_min_s

    def _fail(self, message: str) -> None:
        if self.error != message:
            log.error(
                "%s; retrying in %.0f s",
                message,
                self._delay,
                extra={"journal": {"RESULT": "camera_down", "REASON": "CAMERA"}},
            )
        self.error = message
        self.failures += 1
        self.state = "down"
        if self.source is not None:
            try:
                self.source.stop()
            except Exception:  # already broken; nothing more to release
                log.debug("camera stop after failure raised", exc_info=True)
            self.source = None
        self._retry_at = self._clock() + self._delay
        self._delay = min(self._delay * 2, self.retry_max_s)
        self._last_wall = None

    def _count(self) -> None:
        self.frames += 1
        now = self._clock()
        if self._last_wall is not None:
            dt = now - self._last_wall
            if dt > 0:
                # Exponential average over ~30 frames: stable enough for health, quick to show a drop.
                self.fps = 1.0 / dt if self.fps == 0 else 0.97 * self.fps + 0.03 / dt
        self._last_wall = now
