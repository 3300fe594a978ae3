"""OpenCV backend: a USB (UVC) camera by index, or a video file, through cv2.VideoCapture."""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.errors import SourceError

log = logging.getLogger(__name__)

# libcamera control name -> OpenCV property. UVC drivers disagree on units, so these are best effort.
_CONTROL_PROPS = {
    "ExposureTime": cv2.CAP_PROP_EXPOSURE,
    "AnalogueGain": cv2.CAP_PROP_GAIN,
    "Brightness": cv2.CAP_PROP_BRIGHTNESS,
}


class OpenCVSource(FrameSource):
    """Frames from ``cv2.VideoCapture``: device index (``"0"``) or a file path."""

    name = "opencv"

    def __init__(self, source: str | int = 0, width: int = 640, height: int = 480, fps: float = 30.0) -> None:
        super().__init__()
        self.source = source
        self.width, self.height, self.fps = width, height, fps
        self._cap: cv2.VideoCapture | None = None
        self._is_device = isinstance(source, int) or str(source).isdigit()
        self._index = 0

    def describe(self) -> dict[str, Any]:
        """Backend, device and negotiated size."""
        d: dict[str, Any] = {"backend": self.name, "source": str(self.source)}
        if self._cap is not None:
            d["width"] = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
            d["height"] = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            d["fps"] = float(self._cap.get(cv2.CAP_PROP_FPS))
        return d

    def _start(self) -> None:
        src: str | int = int(self.source) if self._is_device else str(self.source)
        cap = cv2.VideoCapture(src)
        if not cap.isOpened():
            what = f"camera /dev/video{src}" if self._is_device else f"video {src}"
            raise SourceError(f"{what}: cannot open (not connected, busy, or no permission: is the user in 'video'?)")
        if self._is_device:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        else:
            vfps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = float(vfps) if vfps and vfps > 0 else self.fps
        self._cap = cap
        self._index = 0

    def _stop(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read(self) -> Frame | None:
        assert self._cap is not None
        ok, bgr = self._cap.read()
        if not ok:
            if self._is_device:
                raise SourceError(f"camera /dev/video{self.source}: stopped delivering frames (unplugged?)")
            return None
        ts = time.monotonic() if self._is_device else self._index / self.fps
        md: dict[str, Any] = dict(self._controls)
        frame = Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), ts, self._index, md)
        self._index += 1
        return frame

    def _apply_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        accepted: dict[str, Any] = {}
        if self._cap is None or not self._is_device:
            return controls  # a file has no controls; remember them so metadata reflects the request
        for key, value in controls.items():
            prop = _CONTROL_PROPS.get(key)
            if key == "AeEnable":
                # V4L2 auto-exposure: 3 = aperture priority (auto), 1 = manual.
                if self._cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 3 if value else 1):
                    accepted[key] = value
            elif prop is not None and self._cap.set(prop, float(value)):
                accepted[key] = value
        return accepted
