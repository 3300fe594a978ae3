"""The frame-source interface shared by the picamera2, OpenCV and replay backends."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from terminal.camera.frame import Frame

log = logging.getLogger(__name__)


class FrameSource(ABC):
    """A camera-like source of frames, shaped after picamera2: start, capture, controls, metadata, stop.

    ``read()`` returns the next Frame, or None at the end of a finite source. Controls use libcamera's
    names (``ExposureTime``, ``AnalogueGain``, ``AeEnable``, ...); a backend that cannot honour one logs
    it once and carries on, because a refused control must never stop the capture loop.
    """

    name = "source"

    def __init__(self) -> None:
        self._controls: dict[str, Any] = {}
        self._started = False
        self._refused: set[str] = set()

    @property
    def controls(self) -> dict[str, Any]:
        """The controls last applied (what the backend accepted)."""
        return dict(self._controls)

    def start(self) -> None:
        """Open the device or file and begin streaming."""
        if not self._started:
            self._start()
            self._started = True

    def stop(self) -> None:
        """Stop streaming and release the device."""
        if self._started:
            self._started = False
            self._stop()

    close = stop

    def read(self) -> Frame | None:
        """Return the next frame, or None when a finite source has ended."""
        if not self._started:
            self.start()
        return self._read()

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        """Apply camera controls; those the backend refuses are logged once and skipped."""
        accepted = self._apply_controls(dict(controls))
        self._controls.update(accepted)
        for key in set(controls) - set(accepted):
            if key not in self._refused:
                self._refused.add(key)
                log.warning("%s: control %s not supported, ignored", self.name, key)

    def describe(self) -> dict[str, Any]:
        """A short description for logs and diagnostics."""
        return {"backend": self.name}

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def __enter__(self) -> FrameSource:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @abstractmethod
    def _start(self) -> None: ...

    @abstractmethod
    def _stop(self) -> None: ...

    @abstractmethod
    def _read(self) -> Frame | None: ...

    def _apply_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        """Apply what the backend can; return the accepted subset (default: accept and remember all)."""
        return controls
