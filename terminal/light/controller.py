"""Closed-loop face brightness: ring-light duty first, camera exposure and gain second.

The loop works in linear light. Each frame gives ``y = linear(face luma) / (exposure * gain)`` relative to the
base exposure, and the face is modelled as ``y = ambient + lamp * duty``. ``lamp`` (what one unit of duty adds)
is measured from consecutive frames whenever the duty moved; ``ambient`` follows from the current frame. The
plan is the smallest camera gain that reaches the middle of the band: duty alone if it can, else full duty and a
longer exposure (whole flicker periods), then analogue gain. While the duty is still ramping, the camera makes
up the difference so the face is in band within a few frames, and hands back to the light as the duty rises.
Inside the band the plan is frozen (the band is the dead band): no flicker, no hunting when the member moves.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.errors import TerminalError
from terminal.light.measure import Box, Measurement, from_linear, measure, to_linear
from terminal.light.settings import LightConfig

if TYPE_CHECKING:
    from terminal.camera.base import FrameSource
    from terminal.light.devices import LightDevices

log = logging.getLogger(__name__)

LIGHT_FAULT = "LIGHT_FAULT"  # more light does not change the measured brightness
UNEVEN_LIGHT = "UNEVEN_LIGHT"  # one side of the face much brighter: the member should turn or move
BACKLIT = "BACKLIT"  # background much brighter than the face and the face cannot be lit into the band
TOO_DARK = "TOO_DARK"  # every actuator at its limit and the face still below the band
TOO_BRIGHT = "TOO_BRIGHT"  # light off, shortest exposure, and the face still above the band

CLIP_LUMA = 245.0  # above this the linear estimate is a lower bound only
FLOOR_LUMA = 4.0  # below this the face is noise: the slope cannot be measured
MIN_DUTY_MOVE = 0.04  # duty change that makes a slope measurement worth taking


def whole_pwm_periods(exposure_us: float, period_us: float) -> float:
    """``exposure_us`` rounded to a whole number of PWM periods (unchanged below one period or without PWM)."""
    if not period_us or exposure_us < period_us:
        return exposure_us
    return round(exposure_us / period_us) * period_us


@dataclass
class LightState:
    """What the controller did and saw on one frame."""

    duty: float
    exposure_us: int
    gain: float
    brightness: float
    target: tuple[float, float]
    in_band: bool
    converged: bool
    faults: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (rounded)."""
        d = asdict(self)
        d["duty"] = round(self.duty, 4)
        d["gain"] = round(self.gain, 3)
        d["brightness"] = round(self.brightness, 1)
        d["target"] = [self.target[0], self.target[1]]
        return d


class LightController:
    """Brings the face into the target band with the ring light first and the camera second."""

    def __init__(
        self,
        cfg: LightConfig,
        devices: LightDevices | None,
        camera: FrameSource | None = None,
        *,
        flicker_hz: int = 50,
        fps: float = 30.0,
    ) -> None:
        self.cfg = cfg
        self.devices = devices
        self.camera = camera
        self.fps = fps
        # Exposures of whole flicker periods (half the mains period) do not band under mains lighting.
        self.period_us = 1_000_000 / (2 * flicker_hz) if flicker_hz else 0.0
        self.max_exposure = int(min(cfg.max_exposure_us, 1_000_000 / fps))
        # Hardware PWM: every exposure spans whole PWM periods, so each row of a rolling shutter integrates the
        # same light whatever its phase (docs/light.md). Software PWM jitters: no exposure can fix that.
        hw = devices is not None and getattr(devices, "driver", "") == "sysfs_pwm"
        self.pwm_period_us = 1_000_000 / cfg.hw_pwm_hz if hw else 0.0
        self.target = (cfg.target_low, cfg.target_high)
        self.t_lin = to_linear((cfg.target_low + cfg.target_high) / 2)
        self._camera_ok = camera is not None
        self._devices_ok = devices is not None
        self.reset()

    # -- public -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget what was learnt about the scene (new session); the camera returns to base exposure."""
        self.exposure_us = self.cfg.base_exposure_us
        self.gain = 1.0
        self._lamp: float | None = None  # measured y per unit duty
        self._prev: tuple[float, float] | None = None  # (duty, y) of the last usable frame
        self._anchor: tuple[float, float] | None = None  # (duty, y) the fault check compares against
        self._goal: float | None = None
        self._in_band_run = 0
        self._dead = False
        self._persist: dict[str, int] = {}
        self._sent: dict[str, Any] = {}
        self._manual = False

    def off(self) -> None:
        """Turn the ring light off (end of session) and give exposure back to the camera's AE."""
        if self.devices is not None:
            try:
                self.devices.off()
            except TerminalError as err:
                log.warning("light: cannot turn off: %s", err)
        if self._manual:
            self._send({"AeEnable": True})
            self._manual = False
        self._goal = None

    def update(
        self,
        image_rgb: np.ndarray,
        face_box: Box | None = None,
        face_luma: float | None = None,
        uneven: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> LightState:
        """Measure one frame (captured with the current duty and controls) and set duty and controls."""
        m = measure(image_rgb, face_box)
        brightness = float(face_luma) if face_luma is not None else m.brightness
        duty = self._read_duty()
        exposure, gain = self.exposure_us, self.gain
        if metadata:  # what the camera really used for this frame wins over what we asked for
            exposure = int(metadata.get("ExposureTime", exposure))
            gain = float(metadata.get("AnalogueGain", gain))
        cam = exposure * gain / self.cfg.base_exposure_us
        y = to_linear(brightness) / max(cam, 1e-9)
        usable = FLOOR_LUMA <= brightness <= CLIP_LUMA and m.clipped < 0.2
        self._learn(duty, y, usable)
        in_band = self.target[0] <= brightness <= self.target[1]
        self._in_band_run = self._in_band_run + 1 if in_band else 0

        if self._goal is None and in_band:
            self._goal = duty  # already in band at the start: nothing to do, hold
        if not in_band or self._goal is None or abs(duty - self._goal) > 1e-6:
            # Re-plan while out of band or still ramping (the lamp estimate improves as the duty moves);
            # once the duty has arrived and the face is in band the plan is frozen.
            self._goal = self._plan_duty(duty, y)
        new_duty = self._drive(self._goal)
        if not in_band or abs(new_duty - duty) > 1e-6:
            self._set_camera(self._plan_camera(duty, y, new_duty, brightness))
        elif not self._manual:
            self._set_camera(self.exposure_us * self.gain / self.cfg.base_exposure_us)

        faults = self._faults(m, brightness, in_band, new_duty, uneven)
        converged = self._in_band_run >= self.cfg.settle_frames and abs(new_duty - duty) < 1e-6
        return LightState(
            new_duty, int(self.exposure_us), self.gain, brightness, self.target, in_band, converged, faults
        )

    # -- model ----------------------------------------------------------------------------------------------
    def _learn(self, duty: float, y: float, usable: bool) -> None:
        if not usable:
            self._prev = None
            self._anchor = None
            return
        if self._prev is not None and abs(duty - self._prev[0]) >= MIN_DUTY_MOVE:
            slope = max(0.0, (y - self._prev[1]) / (duty - self._prev[0]))
            self._lamp = slope if self._lamp is None else 0.5 * (self._lamp + slope)
        self._prev = (duty, y)
        if self._anchor is None:
            self._anchor = (duty, y)
        elif abs(duty - self._anchor[0]) >= self.cfg.fault_duty_delta:
            # A working lamp adds the same absolute light whatever the ambient, so its efficacy (linear light per
            # unit duty, relative to the target level) is judged, not the relative change: bright rooms are no
            # reason to call a good lamp dead.
            d0, y0 = self._anchor
            response = abs(y - y0) / (abs(duty - d0) * self.t_lin)
            was_dead = self._dead
            self._dead = response < self.cfg.fault_min_response
            if self._dead and not was_dead:
                log.warning(
                    "light: duty %.2f -> %.2f added %.1f%% of the target light per unit duty: lamp dead or unplugged",
                    d0,
                    duty,
                    100 * response,
                )
            self._anchor = (duty, y)

    def _lamp_estimate(self) -> float:
        # Before the first slope measurement assume full duty alone reaches the middle of the band.
        lamp = self._lamp if self._lamp is not None else self.t_lin / self.cfg.max_duty
        if self._dead:
            lamp = 0.0
        return max(lamp, 0.02 * self.t_lin)  # a floor keeps the divisions finite

    def _plan_duty(self, duty: float, y: float) -> float:
        if not self._devices_ok:
            return 0.0
        lamp = self._lamp_estimate()
        ambient = max(0.0, y - lamp * duty)
        return min(max((self.t_lin - ambient) / lamp, 0.0), self.cfg.max_duty)

    def _plan_camera(self, duty: float, y: float, new_duty: float, brightness: float) -> float:
        """Camera product (exposure*gain relative to base) that puts the face mid-band with ``new_duty``."""
        lamp = 0.0 if self._dead or not self._devices_ok else self._lamp_estimate()
        expected = max(y + lamp * (new_duty - duty), 1e-9)
        want = self.t_lin / expected
        if brightness > CLIP_LUMA:
            # Clipped: the true level is higher than measured; cut harder so we leave saturation quickly.
            want *= 0.5
        # Never move more than 16x per frame: a single wild frame (flash, occlusion) cannot throw the loop.
        current = self.exposure_us * self.gain / self.cfg.base_exposure_us
        return min(max(want, current / 16), current * 16)

    # -- actuators -----------------------------------------------------------------------------------------
    def _read_duty(self) -> float:
        if self.devices is None or not self._devices_ok:
            return 0.0
        return self.devices.duty

    def _drive(self, goal: float) -> float:
        if self.devices is None or not self._devices_ok:
            return 0.0
        try:
            return self.devices.set_duty(goal, dt=1.0 / self.fps)
        except TerminalError as err:
            log.error("light: ring light failed, continuing on exposure alone: %s", err)
            self._devices_ok = False
            self._dead = True
            return 0.0

    def _split(self, product: float) -> tuple[int, float]:
        """Exposure (µs) and gain for a camera product: exposure first, in whole flicker periods, then gain."""
        base = self.cfg.base_exposure_us
        want_us = product * base
        if want_us <= base or not self.period_us:
            exposure = min(max(want_us, self.cfg.min_exposure_us), self.max_exposure)
        else:
            periods = max(1, math.floor(min(want_us, self.max_exposure) / self.period_us))
            exposure = max(periods * self.period_us, min(base, self.max_exposure))
        exposure = whole_pwm_periods(exposure, self.pwm_period_us)
        gain = min(max(want_us / exposure, 1.0), self.cfg.max_gain)
        return round(exposure), round(gain, 3)

    def _set_camera(self, product: float) -> None:
        self.exposure_us, self.gain = self._split(product)
        self._send({"AeEnable": False, "ExposureTime": self.exposure_us, "AnalogueGain": self.gain})
        self._manual = True

    def _send(self, controls: dict[str, Any]) -> None:
        changed = {k: v for k, v in controls.items() if self._sent.get(k) != v}
        if not changed or self.camera is None or not self._camera_ok:
            return
        try:
            self.camera.set_controls(changed)
            self._sent.update(changed)
        except TerminalError as err:
            log.error("light: camera refused controls %s, continuing with the light alone: %s", changed, err)
            self._camera_ok = False

    # -- faults ---------------------------------------------------------------------------------------------
    def _debounced(self, code: str, active: bool) -> bool:
        n = self._persist.get(code, 0) + 1 if active else 0
        self._persist[code] = n
        return n >= self.cfg.fault_frames

    def _faults(self, m: Measurement, brightness: float, in_band: bool, duty: float, uneven: bool) -> list[str]:
        cfg, faults = self.cfg, []
        if self._dead:
            faults.append(LIGHT_FAULT)
        side = False
        if m.left is not None and m.right is not None:
            lo, hi = sorted((to_linear(m.left), to_linear(m.right)))
            side = hi > cfg.uneven_ratio * max(lo, 1e-6)
        if self._debounced(UNEVEN_LIGHT, uneven or side):
            faults.append(UNEVEN_LIGHT)
        at_max = duty >= cfg.max_duty - 1e-6 or not self._devices_ok
        # Backlight only matters when the face cannot be brought into the band despite it.
        back = (
            m.background is not None
            and to_linear(m.background) > cfg.backlit_ratio * max(to_linear(brightness), 1e-6)
            and not in_band
        )
        if self._debounced(BACKLIT, back):
            faults.append(BACKLIT)
        cam_max = self.exposure_us >= self.max_exposure and self.gain >= cfg.max_gain
        if self._debounced(TOO_DARK, brightness < self.target[0] and cam_max and at_max):
            faults.append(TOO_DARK)
        cam_min = self.exposure_us <= cfg.min_exposure_us and self.gain <= 1.0
        if self._debounced(TOO_BRIGHT, brightness > self.target[1] and cam_min and duty <= 1e-6):
            faults.append(TOO_BRIGHT)
        return faults

    def expected_luma(self, duty: float) -> float:
        """The face luma the current model predicts at ``duty`` and the current camera settings (diagnostics)."""
        lamp = self._lamp_estimate()
        y = self._prev[1] if self._prev else 0.0
        d = self._prev[0] if self._prev else 0.0
        cam = self.exposure_us * self.gain / self.cfg.base_exposure_us
        return from_linear((y + lamp * (duty - d)) * cam)
