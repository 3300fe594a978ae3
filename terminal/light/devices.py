"""The ring light, status LEDs and buzzer as gpiozero devices, with duty limits and a ramp rate."""

from __future__ import annotations

import importlib
import logging
import time
import warnings
from pathlib import Path
from typing import Any, Literal

from gpiozero import LED, PWMLED, Buzzer, Factory, GPIOZeroError
from gpiozero.pins.mock import MockFactory, MockPWMPin

from terminal.errors import HardwareError
from terminal.light.settings import LightConfig
from terminal.pimodel import pi_model

log = logging.getLogger(__name__)

# gpiozero's own entry points, in the order gpiozero itself prefers them (lgpio is the only one on a Pi 5).
FACTORIES = {
    "lgpio": "gpiozero.pins.lgpio:LGPIOFactory",
    "rpigpio": "gpiozero.pins.rpigpio:RPiGPIOFactory",
    "pigpio": "gpiozero.pins.pigpio:PiGPIOFactory",
    "native": "gpiozero.pins.native:NativeFactory",
}
STATUS_KEYS = {"idle": "ready_pin", "working": "working_pin", "pass": "pass_pin", "fail": "fail_pin"}
# (on seconds, off seconds, count) of an active buzzer per kind of feedback.
BEEPS = {"ok": (0.12, 0.1, 1), "fail": (0.15, 0.1, 3), "attention": (0.08, 0.12, 2)}
Status = Literal["idle", "working", "pass", "fail"]


def is_raspberry_pi(model_file: Path = Path("/proc/device-tree/model")) -> bool:
    """True when the device tree says this is a Raspberry Pi."""
    try:
        return "raspberry pi" in model_file.read_text(errors="replace").lower()
    except OSError:
        return False


def mock_factory() -> MockFactory:
    """gpiozero's MockFactory with PWM-capable pins (what tests and non-Pi machines use)."""
    return MockFactory(pin_class=MockPWMPin)


def _load_factory(name: str) -> Factory:
    module, cls = FACTORIES[name].split(":")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpiozero warns on fallbacks; we log our own single line instead
        factory: Factory = getattr(importlib.import_module(module), cls)()
    return factory


def make_pin_factory(name: str) -> Factory:
    """Build the named gpiozero pin factory; ``auto`` tries them in order and falls back to a mock off-Pi."""
    if name == "mock":
        return mock_factory()
    if name != "auto":
        if name not in FACTORIES:
            raise HardwareError(f"light.pin_factory = {name!r}: unknown (use auto, {', '.join(FACTORIES)} or mock)")
        try:
            return _load_factory(name)
        except Exception as err:  # any import/driver error of a third-party GPIO library
            raise HardwareError(
                f"light.pin_factory = {name!r} cannot load: {err} (on a Pi 5 only lgpio works; off a Pi use mock)"
            ) from None
    reasons = []
    for candidate in FACTORIES:
        try:
            return _load_factory(candidate)
        except Exception as err:
            reasons.append(f"{candidate}: {err}")
    if not is_raspberry_pi():
        log.warning(
            "light: not a Raspberry Pi, no GPIO pin factory loads (%s); the light is SIMULATED "
            "with gpiozero's MockFactory",
            "; ".join(reasons),
        )
        return mock_factory()
    raise HardwareError(
        "light.pin_factory = 'auto': no GPIO pin factory loads on this Pi ("
        + "; ".join(reasons)
        + "); install python3-lgpio"
    )


def ring_driver(cfg: LightConfig, pin_factory: Factory | None = None) -> str:
    """The ring light's driver: the configured one, or for ``auto`` hardware PWM on a Pi 4/5 (gpiozero when a
    pin factory is given explicitly, as tests and the simulators do, and on anything else)."""
    if cfg.driver != "auto":
        return cfg.driver
    if pin_factory is None and pi_model() in ("pi4", "pi5"):
        return "sysfs_pwm"
    return "gpiozero"


class LightDevices:
    """Ring light (PWMLED, optional second channel), status LEDs and buzzer on one pin factory.

    ``set_duty`` never exceeds ``max_duty`` and moves at most ``max_step`` per call and ``ramp_per_s`` per
    second, so the light fades instead of jumping (eye comfort, LED heat). ``off`` is immediate.
    """

    def __init__(
        self, cfg: LightConfig, pin_factory: Factory, driver: str = "gpiozero", sysfs_root: Path | None = None
    ) -> None:
        self.cfg = cfg
        self.pin_factory = pin_factory
        self.driver = driver
        self._devices: list[Any] = []
        self._status: dict[str, LED] = {}
        self._last_set = time.monotonic()
        self._closed = False
        try:
            self.ring: Any = self._make_ring("ring_pin", cfg.ring_pin, sysfs_root)
            self.ring2: Any = None
            if cfg.ring2_pin is not None:
                self.ring2 = self._make_ring("ring2_pin", cfg.ring2_pin, sysfs_root)
            for state, key in STATUS_KEYS.items():
                pin = getattr(cfg, key)
                if pin is not None:
                    self._status[state] = self._make(LED, key, pin)
            self.buzzer: Buzzer | None = None
            if cfg.buzzer_pin is not None:
                self.buzzer = self._make(Buzzer, "buzzer_pin", cfg.buzzer_pin)
        except HardwareError:
            self.close()
            raise

    @classmethod
    def from_config(
        cls, cfg: LightConfig, pin_factory: Factory | None = None, sysfs_root: Path | None = None
    ) -> LightDevices:
        """Open every configured device; HardwareError names the key and pin that cannot be used."""
        driver = ring_driver(cfg, pin_factory)
        factory = pin_factory if pin_factory is not None else make_pin_factory(cfg.pin_factory)
        return cls(cfg, factory, driver, sysfs_root)

    def _make_ring(self, key: str, pin: int, sysfs_root: Path | None) -> Any:
        if self.driver != "sysfs_pwm":
            return self._make(PWMLED, key, pin, frequency=self.cfg.pwm_hz)
        from terminal.light.hwpwm import SYSFS_PWM, SysfsPWMLED

        dev = SysfsPWMLED(pin, self.cfg.hw_pwm_hz, chip=self.cfg.pwm_chip, root=sysfs_root or SYSFS_PWM, key=key)
        self._devices.append(dev)
        return dev

    @property
    def pwm_hz(self) -> int:
        """The ring light's PWM frequency as driven."""
        return self.cfg.hw_pwm_hz if self.driver == "sysfs_pwm" else self.cfg.pwm_hz

    def _make(self, kind: Any, key: str, pin: int, **kw: Any) -> Any:
        try:
            dev = kind(pin, pin_factory=self.pin_factory, **kw)
        except GPIOZeroError as err:
            raise HardwareError(f"light.{key} = {pin}: cannot use this pin ({type(err).__name__}: {err})") from None
        self._devices.append(dev)
        return dev

    @property
    def duty(self) -> float:
        """The ring light's duty as the gpiozero device reports it (0..1)."""
        try:
            return float(self.ring.value)
        except (GPIOZeroError, HardwareError):
            return 0.0  # closed: the pin was released, the light is off

    @property
    def max_duty(self) -> float:
        """The configured ceiling of the duty."""
        return self.cfg.max_duty

    def step_limit(self, dt: float | None = None) -> float:
        """The largest duty change allowed after ``dt`` seconds (default: time since the last change)."""
        if dt is None:
            dt = time.monotonic() - self._last_set
        return min(self.cfg.max_step, self.cfg.ramp_per_s * max(0.0, dt))

    def set_duty(self, x: float, dt: float | None = None) -> float:
        """Move the ring light towards duty ``x`` (clamped to max_duty, ramp-limited); returns the new duty.

        ``dt`` is the time since the last call (the frame interval in a capture loop); without it the wall
        clock is used.
        """
        target = min(max(float(x), 0.0), self.cfg.max_duty)
        current = self.duty
        limit = self.step_limit(dt)
        new = current + min(max(target - current, -limit), limit)
        new = min(max(new, 0.0), self.cfg.max_duty)  # rounding must never push past the ceiling
        if new != current:  # at steady state nothing is written: no PWM churn 30 times a second
            self._write(new)
        self._last_set = time.monotonic()
        return new

    def _write(self, duty: float) -> None:
        try:
            self.ring.value = duty
            if self.ring2 is not None:
                self.ring2.value = duty * self.cfg.ring2_ratio
        except HardwareError:
            raise
        except GPIOZeroError as err:
            raise HardwareError(f"light.ring_pin = {self.cfg.ring_pin}: cannot set duty ({err})") from None

    def off(self) -> None:
        """Turn the ring light(s) off at once."""
        if not self._closed:
            self._write(0.0)
            self._last_set = time.monotonic()

    def show(self, state: Status) -> None:
        """Light the status LED of ``state`` (working blinks) and turn the others off; no-op if not fitted."""
        if state not in STATUS_KEYS:
            raise ValueError(f"unknown status {state!r}")
        try:
            for name, led in self._status.items():
                if name != state:
                    led.off()
            led = self._status.get(state)
            if led is not None:
                if state == "working":
                    led.blink(on_time=0.25, off_time=0.25, background=True)
                else:
                    led.on()
        except GPIOZeroError as err:
            log.warning("light: status LED %s failed: %s", state, err)

    def beep(self, kind: str = "ok") -> None:
        """Sound the buzzer in the background: ``ok`` once, ``attention`` twice, ``fail`` three times."""
        if kind not in BEEPS:
            raise ValueError(f"unknown beep {kind!r} (known: {', '.join(BEEPS)})")
        if self.buzzer is None:
            return
        on, off, n = BEEPS[kind]
        try:
            self.buzzer.beep(on_time=on, off_time=off, n=n, background=True)
        except GPIOZeroError as err:
            log.warning("light: buzzer failed: %s", err)

    def close(self) -> None:
        """Turn everything off and release the pins (idempotent)."""
        if self._closed:
            return
        for dev in reversed(self._devices):
            try:
                dev.off()
                dev.close()
            except (GPIOZeroError, HardwareError) as err:  # closing must never raise on the way out of a session
                log.warning("light: closing %r failed: %s", dev, err)
        self._closed = True

    def __enter__(self) -> LightDevices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
