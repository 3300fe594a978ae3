"""picamera2 backend for the Raspberry Pi camera module; picamera2 is imported only when this is used."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.errors import SourceError

log = logging.getLogger(__name__)

# Controls we pass through to libcamera; anything else is refused before it reaches the camera.
KNOWN_CONTROLS = {
    "ExposureTime",
    "AnalogueGain",
    "AeEnable",
    "AeFlickerMode",
    "AeFlickerPeriod",
    "AeExposureMode",
    "AwbEnable",
    "ColourGains",
    "Brightness",
    "Contrast",
    "FrameDurationLimits",
    "ExposureValue",
}
METADATA_KEYS = (
    "ExposureTime",
    "AnalogueGain",
    "DigitalGain",
    "Lux",
    "ColourTemperature",
    "FrameDuration",
    "SensorTimestamp",
)


def _default_factory() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError:
        raise SourceError(
            "picamera2 is not installed: on a Raspberry Pi run ./setup.sh (it installs python3-picamera2); "
            "elsewhere use camera.backend = 'opencv' or 'replay'"
        ) from None
    try:
        return Picamera2()
    except (IndexError, RuntimeError) as err:
        # picamera2 raises IndexError when libcamera lists no camera at all.
        raise SourceError(
            f"Pi camera not found ({err}): check the ribbon cable and 'rpicam-hello --list-cameras'"
        ) from None


class Picamera2Source(FrameSource):
    """Frames from a Picamera2 object: configure a video configuration, start, capture_request per frame."""

    name = "picamera2"

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        flicker_hz: int = 50,
        hflip: bool = False,
        vflip: bool = False,
        factory: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self.flicker_hz = flicker_hz
        self.hflip, self.vflip = hflip, vflip
        self._factory = factory or _default_factory
        self._cam: Any = None
        self._index = 0

    def describe(self) -> dict[str, Any]:
        """Backend, size, frame rate and the camera model when known."""
        d: dict[str, Any] = {"backend": self.name, "width": self.width, "height": self.height, "fps": self.fps}
        props = getattr(self._cam, "camera_properties", None)
        if isinstance(props, dict) and "Model" in props:
            d["model"] = props["Model"]
        return d

    def _start(self) -> None:
        cam = self._factory()
        frame_us = int(1_000_000 / self.fps)
        controls: dict[str, Any] = {"FrameDurationLimits": (frame_us, frame_us)}
        if self.flicker_hz:
            # Exposure in multiples of the mains half-period removes 50 Hz banding (libcamera >= 0.2).
            controls["AeFlickerMode"] = 1  # controls.AeFlickerModeEnum.Manual
            controls["AeFlickerPeriod"] = int(1_000_000 / (2 * self.flicker_hz))
        # "BGR888" is libcamera's name for memory order R,G,B: what we want, with no per-frame conversion.
        main = {"size": (self.width, self.height), "format": "BGR888"}
        try:
            config = cam.create_video_configuration(main=main, controls=controls, buffer_count=4)
            if self.hflip or self.vflip:
                config["transform"] = _transform(self.hflip, self.vflip)
            cam.configure(config)
            cam.start()
        except Exception as err:  # picamera2 raises plain RuntimeError for most configure failures
            try:
                cam.close()
            finally:
                raise SourceError(
                    f"Pi camera refused configuration {self.width}x{self.height}@{self.fps}: {err}"
                ) from None
        self._cam = cam
        self._controls.update(controls)
        self._index = 0

    def _stop(self) -> None:
        if self._cam is not None:
            try:
                self._cam.stop()
            finally:
                self._cam.close()
                self._cam = None

    def _read(self) -> Frame | None:
        try:
            request = self._cam.capture_request()
        except Exception as err:  # libcamera timeouts surface as TimeoutError/RuntimeError
            raise SourceError(f"Pi camera stopped delivering frames: {err}") from err
        try:
            image = request.make_array("main")
            md = request.get_metadata()
        finally:
            request.release()
        ts_ns = md.get("SensorTimestamp")
        ts = ts_ns / 1e9 if isinstance(ts_ns, (int, float)) else time.monotonic()
        meta = {k: md[k] for k in METADATA_KEYS if k in md}
        frame = Frame(image=image[..., :3], timestamp=ts, index=self._index, metadata=meta)
        self._index += 1
        return frame

    def _apply_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        accepted = {k: v for k, v in controls.items() if k in KNOWN_CONTROLS}
        if self._cam is not None and accepted:
            try:
                self._cam.set_controls(accepted)
            except Exception as err:  # a control outside the sensor's range: log, keep streaming
                log.warning("picamera2 refused controls %s: %s", sorted(accepted), err)
                return {}
        return accepted


def _transform(hflip: bool, vflip: bool) -> Any:
    try:
        from libcamera import Transform
    except ImportError:
        return {"hflip": int(hflip), "vflip": int(vflip)}
    return Transform(hflip=int(hflip), vflip=int(vflip))
