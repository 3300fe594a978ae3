"""Config section ``[light]``: GPIO pins, PWM and the brightness controller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from terminal.config.base import Section

PIN_KEYS = ("ring_pin", "ring2_pin", "ready_pin", "working_pin", "pass_pin", "fail_pin", "buzzer_pin")


class LightConfig(Section):
    """Ring light, feedback devices (status LEDs, buzzer) and the closed-loop brightness controller."""

    enabled: bool = True
    pin_factory: Literal["auto", "lgpio", "rpigpio", "pigpio", "native", "mock"] = Field(
        "auto", description="gpiozero pin factory; auto tries lgpio, rpigpio, pigpio, native (Pi 5: lgpio only)"
    )
    ring_pin: int = Field(18, ge=0, le=27, description="BCM pin of the ring light (hardware PWM: 12, 13, 18, 19)")
    driver: Literal["auto", "gpiozero", "sysfs_pwm"] = Field(
        "auto",
        description="ring light PWM: sysfs_pwm = the SoC's hardware PWM (/sys/class/pwm, needs the pwm "
        "overlay), gpiozero = software PWM on any pin; auto = sysfs_pwm on a Pi 4/5, else gpiozero",
    )
    pwm_hz: int = Field(1000, ge=50, le=40000, description="software PWM frequency (driver gpiozero)")
    hw_pwm_hz: int = Field(
        24000,
        ge=100,
        le=1_000_000,
        description="hardware PWM frequency: 24 kHz = whole periods in 10 ms and 8.33 ms "
        "exposures, inaudible (docs/light.md)",
    )
    pwm_chip: int | None = Field(None, ge=0, le=63, description="sysfs pwmchip number (default: the SoC's PWM)")
    max_duty: float = Field(0.85, gt=0, le=1.0)

    # Optional devices: None means "not fitted".
    ring2_pin: int | None = Field(None, ge=0, le=27, description="second ring-light channel (e.g. warm LEDs)")
    ring2_ratio: float = Field(1.0, ge=0, le=1.0, description="duty of the second channel relative to the first")
    ready_pin: int | None = Field(None, ge=0, le=27, description="status LED: ready (idle)")
    working_pin: int | None = Field(None, ge=0, le=27, description="status LED: working (session running)")
    pass_pin: int | None = Field(None, ge=0, le=27, description="status LED: verification passed")
    fail_pin: int | None = Field(None, ge=0, le=27, description="status LED: verification failed")
    buzzer_pin: int | None = Field(None, ge=0, le=27, description="active buzzer")

    # Eye comfort and heat: the duty may change by at most ramp_per_s per second and max_step per call.
    ramp_per_s: float = Field(6.0, gt=0, le=100, description="max duty change per second (1.0 = full range)")
    max_step: float = Field(0.2, gt=0, le=1.0, description="max duty change per set_duty call (one frame)")
    start_duty: float = Field(0.0, ge=0, le=1.0, description="duty the controller starts a session from")

    # Controller: target band of the face-region luma (Rec.601, 0..255).
    target_low: float = Field(105.0, ge=1, le=254, description="lower edge of the face brightness band")
    target_high: float = Field(155.0, ge=2, le=255, description="upper edge of the face brightness band")
    base_exposure_us: int = Field(10000, ge=50, le=1_000_000, description="exposure used while the ring light suffices")
    min_exposure_us: int = Field(100, ge=10, le=1_000_000)
    max_exposure_us: int = Field(30000, ge=100, le=1_000_000, description="longest exposure (<= frame time)")
    max_gain: float = Field(8.0, ge=1.0, le=64.0, description="highest AnalogueGain")
    settle_frames: int = Field(2, ge=1, le=30, description="frames in band before the loop counts as converged")

    # Fault detection.
    fault_duty_delta: float = Field(0.25, gt=0, le=1.0, description="duty rise that must show in brightness")
    fault_min_response: float = Field(
        0.05,
        gt=0,
        le=1.0,
        description="lamp is dead when full duty would add less linear light than this fraction of the target level",
    )
    uneven_ratio: float = Field(2.5, gt=1.0, le=100, description="left/right face half linear ratio for UNEVEN_LIGHT")
    backlit_ratio: float = Field(3.0, gt=1.0, le=100, description="background/face linear ratio for BACKLIT")
    fault_frames: int = Field(3, ge=1, le=60, description="frames a lighting problem must persist to be reported")

    @model_validator(mode="after")
    def _check(self) -> LightConfig:
        if self.target_low >= self.target_high:
            raise ValueError(f"target_low ({self.target_low}) must be below target_high ({self.target_high})")
        if not self.min_exposure_us <= self.base_exposure_us <= self.max_exposure_us:
            raise ValueError("need min_exposure_us <= base_exposure_us <= max_exposure_us")
        if self.start_duty > self.max_duty:
            raise ValueError(f"start_duty ({self.start_duty}) exceeds max_duty ({self.max_duty})")
        seen: dict[int, str] = {}
        for key in PIN_KEYS:
            pin = getattr(self, key)
            if pin is None:
                continue
            if pin in seen:
                raise ValueError(f"{key} = {pin} is already used by {seen[pin]}")
            seen[pin] = key
        return self

    def pins(self) -> dict[str, int]:
        """The configured pins by key (only fitted devices)."""
        return {k: getattr(self, k) for k in PIN_KEYS if getattr(self, k) is not None}
