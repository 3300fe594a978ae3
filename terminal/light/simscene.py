"""A simulated scene: re-lights recorded frames for the ambient level, the ring light's duty and the camera.

Physics, per pixel: the recorded frame is taken as the scene at nominal ambient light, base exposure and gain 1.
It is linearised (inverse sRGB), scaled by ``ambient + duty * ring * falloff`` (the ring light lights the face
more than the background, which is farther away) and by ``exposure / base * gain``, turned into electrons for
shot noise, given read noise, quantised by a 12-bit ADC, clipped, and encoded with the sRGB curve again.
The duty is read from the gpiozero device on every frame, so the real PWMLED / MockPWMPin path drives it.
The auto-exposure of a real camera is not simulated: with AeEnable the sim holds the base exposure.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import numpy as np

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.camera.recording import IMAGE_SUFFIXES
from terminal.camera.replay import ReplaySource
from terminal.errors import SourceError

if TYPE_CHECKING:
    from terminal.config.schema import CameraConfig
    from terminal.light.devices import LightDevices

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
ACCEPTED = {"ExposureTime", "AnalogueGain", "AeEnable", "AeFlickerMode", "AeFlickerPeriod", "AeExposureMode"}


def srgb_to_linear_lut() -> np.ndarray:
    """256-entry table: sRGB code value -> linear light 0..1."""
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb_lut(levels: int = 4096) -> np.ndarray:
    """``levels``-entry table: quantised linear light (the ADC code) -> sRGB uint8."""
    x = np.linspace(0.0, 1.0, levels)
    v = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.clip(np.round(v * 255.0), 0, 255).astype(np.uint8)


def default_face_box(h: int, w: int) -> Box:
    """Where a framed face sits when nobody says: the central half of the width, 20..80% of the height."""
    return (int(w * 0.25), int(h * 0.2), int(w * 0.75), int(h * 0.8))


def falloff_mask(h: int, w: int, box: Box, floor: float = 0.25) -> np.ndarray:
    """Ring-light irradiance relative to the face centre: 1 on the face, falling to ``floor`` far from it."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    sx, sy = max(2.0, (x1 - x0) * 0.9), max(2.0, (y1 - y0) * 0.9)
    ys = ((np.arange(h, dtype=np.float32) - cy) / sy) ** 2
    xs = ((np.arange(w, dtype=np.float32) - cx) / sx) ** 2
    g = np.exp(-0.5 * (ys[:, None] + xs[None, :]))
    return (floor + (1.0 - floor) * g).astype(np.float32)


class SimSource(FrameSource):
    """Frames of a recorded scene re-lit by ambient light, the ring light's duty and ExposureTime/AnalogueGain."""

    name = "sim"

    def __init__(
        self,
        frames: FrameSource | list[np.ndarray],
        *,
        ambient: float = 1.0,
        devices: LightDevices | None = None,
        dead_lamp: bool = False,
        ring: float = 1.0,
        face_box: Box | None = None,
        fps: float = 30.0,
        base_exposure_us: int = 10000,
        full_well: float = 6000.0,
        read_noise: float = 4.0,
        seed: int | None = 0,
        max_frames: int | None = None,
        duty: float | None = None,
        pwm: str = "ideal",
        pwm_hz: float | None = None,
    ) -> None:
        super().__init__()
        if ambient < 0 or ring < 0:
            raise SourceError(f"sim: ambient ({ambient}) and ring ({ring}) must be >= 0")
        self._input = frames
        self.ambient = float(ambient)
        self.devices = devices
        self.dead_lamp = dead_lamp
        self.ring = float(ring)
        self.face_box = face_box
        self.fps = fps
        self.base_exposure_us = base_exposure_us
        self.full_well = full_well  # electrons at full scale, gain 1
        self.read_noise = read_noise  # electrons RMS
        self.fixed_duty = duty
        self.max_frames = max_frames
        if pwm not in ("ideal", "hardware", "software"):
            raise SourceError(f"sim: pwm={pwm!r} (use ideal, hardware or software)")
        # ideal: the light is steady at its mean; hardware/software: a rolling shutter integrates the PWM waveform
        # row by row (terminal.light.pwmwave); the frequency defaults to what that driver uses.
        self.pwm = pwm
        self.pwm_hz = pwm_hz or (24000.0 if pwm == "hardware" else 1000.0)
        self._seed = 0 if seed is None else seed
        self._rng = np.random.default_rng(seed)
        self._to_lin = srgb_to_linear_lut()
        self._to_srgb = linear_to_srgb_lut()
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._index = 0
        self._controls = {"AeEnable": True, "ExposureTime": base_exposure_us, "AnalogueGain": 1.0}

    def describe(self) -> dict[str, Any]:
        """Backend and scene parameters."""
        return {"backend": self.name, "ambient": self.ambient, "ring": self.ring, "dead_lamp": self.dead_lamp}

    @property
    def duty(self) -> float:
        """Ring-light duty lighting the next frame, read from the gpiozero device (0 if dead or absent)."""
        if self.dead_lamp:
            return 0.0
        if self.fixed_duty is not None:
            return self.fixed_duty
        return self.devices.duty if self.devices is not None else 0.0

    def _start(self) -> None:
        if isinstance(self._input, FrameSource):
            self._input.start()
        elif not self._input:
            raise SourceError("sim: no frames to re-light")
        self._index = 0

    def _stop(self) -> None:
        if isinstance(self._input, FrameSource):
            self._input.stop()

    def _next_image(self) -> np.ndarray | None:
        if isinstance(self._input, FrameSource):
            frame = self._input.read()
            return None if frame is None else frame.image
        return self._input[self._index % len(self._input)]

    def _prepared(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Linearising and the falloff mask are per image; a still image is prepared once, not per frame.
        key = id(image)
        hit = self._cache.get(key)
        if hit is not None and hit[0].shape[:2] == image.shape[:2]:
            return hit
        lin = self._to_lin[image]
        h, w = image.shape[:2]
        if self.face_box is None:
            self.face_box = default_face_box(h, w)
        mask = falloff_mask(h, w, self.face_box)[..., None]
        if len(self._cache) > 4:
            self._cache.clear()
        self._cache[key] = (lin, mask)
        return lin, mask

    def _read(self) -> Frame | None:
        if self.max_frames is not None and self._index >= self.max_frames:
            return None
        image = self._next_image()
        if image is None:
            return None
        lin, mask = self._prepared(image)
        duty = self.duty
        exposure = float(self._controls.get("ExposureTime", self.base_exposure_us))
        gain = float(self._controls.get("AnalogueGain", 1.0))
        if self._controls.get("AeEnable", True):
            exposure, gain = float(self.base_exposure_us), 1.0
        ring = mask if self.pwm == "ideal" or duty <= 0 else mask * self._rows(duty, exposure, mask.shape[0])
        illum = self.ambient + duty * self.ring * ring
        electrons = lin * illum * (exposure / self.base_exposure_us * self.full_well)
        noise = self._rng.standard_normal(electrons.shape, dtype=np.float32)
        electrons = electrons + noise * np.sqrt(electrons + self.read_noise**2)
        signal = electrons * (gain / self.full_well)
        codes = np.clip(signal * (len(self._to_srgb) - 1), 0, len(self._to_srgb) - 1).astype(np.int32)
        out = self._to_srgb[codes]
        md = {
            "ExposureTime": int(exposure),
            "AnalogueGain": gain,
            "RingLight": round(duty, 4),
            "SimAmbient": self.ambient,
        }
        frame = Frame(image=out, timestamp=self._index / self.fps, index=self._index, metadata=md)
        self._index += 1
        return frame

    def _rows(self, duty: float, exposure: float, rows: int) -> np.ndarray:
        """(rows, 1, 1) light each row of this frame collects from the PWM, relative to steady light."""
        from terminal.light.pwmwave import HardwarePWM, SoftwarePWM

        frame_us = 1e6 / self.fps
        line_us = 0.85 * frame_us / rows  # readout takes 85% of the frame time
        wave = (
            HardwarePWM(self.pwm_hz, duty, phase_us=7.3)
            if self.pwm == "hardware"
            else SoftwarePWM(self.pwm_hz, duty, seed=self._seed + self._index)
        )
        t0 = self._index * frame_us + np.arange(rows) * line_us  # each row's exposure window starts here
        light = wave.on_time(t0, t0 + exposure) / (duty * exposure)
        return light.astype(np.float32)[:, None, None]

    def _apply_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        accepted = {k: v for k, v in controls.items() if k in ACCEPTED}
        if "ExposureTime" in accepted:
            accepted["ExposureTime"] = int(min(max(int(accepted["ExposureTime"]), 10), 1_000_000 / self.fps))
        if "AnalogueGain" in accepted:
            accepted["AnalogueGain"] = float(min(max(float(accepted["AnalogueGain"]), 1.0), 16.0))
        return accepted


def _parse_arg(arg: str) -> tuple[str, dict[str, Any]]:
    """``PATH?ambient=0.1&dead_lamp=1`` -> (PATH, options)."""
    path, _, query = arg.partition("?")
    opts: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in ("ambient", "ring", "duty", "pwm_hz"):
            opts[key] = float(value)
        elif key in ("seed", "max_frames"):
            opts[key] = int(value)
        elif key == "pwm":
            opts[key] = value
        elif key == "dead_lamp":
            opts[key] = value.lower() in ("", "1", "true", "yes")
        else:
            raise SourceError(
                f"sim: unknown option {key!r} (known: ambient, ring, duty, seed, max_frames, dead_lamp, pwm, pwm_hz)"
            )
    return path, opts


def open_sim_source(arg: str, cfg: CameraConfig, **kw: Any) -> FrameSource:
    """A SimSource on an image, image folder, video or recording (``sim:PATH?ambient=0.1``)."""
    path, opts = _parse_arg(arg)
    if not path:
        raise SourceError("sim source needs an image, folder or recording: sim:PATH[?ambient=A]")
    opts.update({k: v for k, v in kw.items() if k not in ("realtime", "loop")})
    p = Path(path)
    frames: FrameSource | list[np.ndarray]
    replay = ReplaySource(p, fps=cfg.fps, loop=True)
    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
        replay.start()
        first = replay.read()
        replay.stop()
        if first is None:
            raise SourceError(f"{p}: holds no frames")
        frames = [first.image]  # a still: re-light the same frame forever
    else:
        frames = replay
    return SimSource(frames, fps=cfg.fps, base_exposure_us=10000, **opts)
