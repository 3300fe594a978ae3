"""Config section ``[light]``: GPIO pins, PWM and the brightness controller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from terminal.config.base import Section


class LightConfig(Section):
    """Ring light and feedback devices."""

    enabled: bool = True
    pin_factory: Literal["auto", "lgpio", "rpigpio", "pigpio", "native", "mock"] = "auto"
    ring_pin: int = Field(18, ge=0, le=27, description="BCM pin of the ring light (hardware PWM: 12, 13, 18, 19)")
    pwm_hz: int = Field(1000, ge=50, le=40000)
    max_duty: float = Field(0.85, gt=0, le=1.0)
