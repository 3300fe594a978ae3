"""A Picamera2 stand-in that plays a recording: same method names and shapes, for tests without a Pi.

Like gpiozero's MockFactory, the fake ships in the package so tests run the real Picamera2Source code.
It copies only the surface the terminal uses: configure, start, capture_request/array/metadata,
set_controls, camera_controls, camera_properties, stop, close.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from terminal.camera.replay import ReplaySource


class FakeRequest:
    """Mimics picamera2's CompletedRequest: make_array, get_metadata, release."""

    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self._arrays = arrays
        self._metadata = metadata
        self.released = False

    def make_array(self, name: str = "main") -> np.ndarray:
        """The buffer of stream ``name`` as a numpy array."""
        return self._arrays[name]

    def get_metadata(self) -> dict[str, Any]:
        """The frame's metadata dict."""
        return dict(self._metadata)

    def release(self) -> None:
        """Return the buffer to the camera."""
        self.released = True


class FakePicamera2:
    """Plays ``path`` (recording, folder or video) through picamera2's API.

    Format semantics follow libcamera: "BGR888" yields R,G,B byte order and "RGB888" yields B,G,R.
    """

    camera_controls: ClassVar[dict[str, tuple[Any, Any, Any]]] = {
        "ExposureTime": (100, 200_000, 20_000),
        "AnalogueGain": (1.0, 16.0, 1.0),
        "AeEnable": (False, True, True),
        "AeFlickerMode": (0, 1, 0),
        "AeFlickerPeriod": (100, 1_000_000, 10_000),
        "FrameDurationLimits": (33_333, 1_000_000, 33_333),
    }

    def __init__(self, path: str | Path, loop: bool = True, fail_after: int | None = None) -> None:
        self.camera_properties = {"Model": "fake-imx708", "PixelArraySize": (4608, 2592)}
        self._replay = ReplaySource(path, loop=loop)
        self._config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.controls: dict[str, Any] = {}
        self.fail_after = fail_after
        self._captured = 0
        self._ts_ns = 1_000_000_000

    def create_video_configuration(
        self,
        main: dict[str, Any] | None = None,
        controls: dict[str, Any] | None = None,
        buffer_count: int = 6,
        **_: Any,
    ) -> dict[str, Any]:
        """Return a configuration dict like picamera2's."""
        main = {"size": (640, 480), "format": "XBGR8888", **(main or {})}
        return {
            "use_case": "video",
            "main": main,
            "controls": dict(controls or {}),
            "buffer_count": buffer_count,
            "transform": None,
        }

    create_preview_configuration = create_video_configuration
    create_still_configuration = create_video_configuration

    def configure(self, config: dict[str, Any]) -> None:
        """Accept a configuration; refuse controls the camera does not have, as libcamera would."""
        unknown = set(config.get("controls", {})) - set(self.camera_controls)
        if unknown:
            raise RuntimeError(f"Control {sorted(unknown)[0]} is not advertised by libcamera")
        self._config = config
        self.controls.update(config.get("controls", {}))

    def start(self) -> None:
        """Begin streaming."""
        if self._config is None:
            self.configure(self.create_video_configuration())
        self._replay.start()
        self.started = True

    def stop(self) -> None:
        """Stop streaming."""
        self.started = False

    def close(self) -> None:
        """Release the camera."""
        self._replay.stop()
        self.closed = True

    def set_controls(self, controls: dict[str, Any]) -> None:
        """Apply controls, with libcamera's range check."""
        for key, value in controls.items():
            if key not in self.camera_controls:
                raise RuntimeError(f"Control {key} is not advertised by libcamera")
            lo, hi, _ = self.camera_controls[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not lo <= value <= hi:
                raise RuntimeError(f"Control {key} value {value} out of range [{lo}, {hi}]")
        self.controls.update(controls)

    def capture_request(self) -> FakeRequest:
        """Next frame as a request; raises like a dead camera after ``fail_after`` frames."""
        if not self.started:
            raise RuntimeError("Camera is not running")
        if self.fail_after is not None and self._captured >= self.fail_after:
            raise TimeoutError("Camera frontend has timed out!")
        frame = self._replay.read()
        if frame is None:
            raise RuntimeError("recording ended")
        self._captured += 1
        assert self._config is not None
        main = self._config["main"]
        img = frame.image
        w, h = main["size"]
        if (img.shape[1], img.shape[0]) != (w, h):
            import cv2

            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        if main["format"] in ("RGB888", "XRGB8888"):
            img = img[..., ::-1]
        if main["format"].startswith("X"):
            img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
        self._ts_ns += int(1e9 / 30)
        md = {
            "SensorTimestamp": self._ts_ns,
            "ExposureTime": int(self.controls.get("ExposureTime", 20_000)),
            "AnalogueGain": float(self.controls.get("AnalogueGain", 1.0)),
            "Lux": 200.0,
            "FrameDuration": 33_333,
        }
        return FakeRequest({"main": np.ascontiguousarray(img)}, md)

    def capture_array(self, name: str = "main") -> np.ndarray:
        """Next frame's array."""
        req = self.capture_request()
        try:
            return req.make_array(name)
        finally:
            req.release()

    def capture_metadata(self) -> dict[str, Any]:
        """Next frame's metadata."""
        req = self.capture_request()
        try:
            return req.get_metadata()
        finally:
            req.release()
