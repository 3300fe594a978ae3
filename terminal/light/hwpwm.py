"""The ring light on the SoC's hardware PWM through the kernel's sysfs interface (/sys/class/pwm).

Software PWM (gpiozero on lgpio) times every edge in a thread; on a Pi whose cores run the landmarker the edges
jitter and stall, and a camera sees that as frame-to-frame brightness changes and rolling-shutter bands
(docs/light.md). The PWM block is clocked by a crystal: period and duty are exact and cost no CPU.

Needs the ``pwm``/``pwm-2chan`` overlay of firmware/config.txt (the pin is then a PWM pin, not a GPIO) and write
access to /sys/class/pwm (firmware/60-terminal.rules). ``SysfsPWMLED`` offers what ``LightDevices`` uses of
gpiozero's ``PWMLED``: ``value`` (0..1), ``off()``, ``close()`` and a read-back ``pin.state``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from terminal.errors import HardwareError
from terminal.pimodel import pi_model

log = logging.getLogger(__name__)

SYSFS_PWM = Path("/sys/class/pwm")
# BCM pin -> PWM channel. Pi 4 (BCM2711, PWM0 at fe20c000): GPIO12/18 are channel 0, GPIO13/19 channel 1.
# Pi 5 (RP1 PWM0 at 1f00098000): GPIO12, 13, 18, 19 are channels 0, 1, 2, 3.
CHANNELS = {"pi4": {12: 0, 18: 0, 13: 1, 19: 1}, "pi5": {12: 0, 13: 1, 18: 2, 19: 3}}
CHIP_DEVICES = {"pi4": "fe20c000.pwm", "pi5": "1f00098000.pwm"}
EXPORT_WAIT_S = 2.0  # udev gives the new pwmN files to the terminal group after the export; wait for it


def hardware_pwm_pins(model: str | None = None) -> dict[int, int]:
    """The BCM pins the SoC's PWM can drive on this Pi model (default: the running one), with their channels."""
    return CHANNELS.get(model or pi_model() or "", CHANNELS["pi4"])


def find_chip(root: Path = SYSFS_PWM, model: str | None = None) -> Path:
    """The pwmchip of the SoC's PWM block: the only chip, or the one whose device is that Pi's PWM0."""
    chips = sorted(root.glob("pwmchip*"))
    if not chips:
        raise HardwareError(
            f"light.driver = 'sysfs_pwm': no PWM chip in {root}: enable the overlay "
            "'dtoverlay=pwm-2chan,pin=18,func=2,pin2=19,func2=2' (firmware/config.txt) and reboot"
        )
    if len(chips) == 1:
        return chips[0]
    want = CHIP_DEVICES.get(model or pi_model() or "")
    for chip in chips:
        device = chip / "device"
        if want and device.exists() and want in str(device.resolve()):
            return chip
    raise HardwareError(
        f"light.pwm_chip: {len(chips)} PWM chips in {root} ({', '.join(c.name for c in chips)}) "
        "and none is known: set light.pwm_chip to the number of the right one"
    )


class PinReadback:
    """gpiozero's ``pin.state`` of a PWM pin: the duty the kernel really holds (duty_cycle / period)."""

    def __init__(self, led: SysfsPWMLED) -> None:
        self._led = led

    @property
    def state(self) -> float:
        """duty_cycle / period as read back from sysfs (0 when disabled)."""
        return self._led.read_back()


class SysfsPWMLED:
    """One PWM channel driving an LED, with ``value`` in 0..1 like gpiozero's PWMLED."""

    def __init__(
        self,
        pin: int,
        frequency: int,
        *,
        chip: int | None = None,
        root: Path = SYSFS_PWM,
        model: str | None = None,
        key: str = "ring_pin",
    ) -> None:
        channels = hardware_pwm_pins(model)
        if pin not in channels:
            raise HardwareError(
                f"light.{key} = {pin}: not a hardware PWM pin (use one of "
                f"{', '.join(map(str, sorted(channels)))}) or light.driver = 'gpiozero'"
            )
        self.pin_number, self.channel = pin, channels[pin]
        self.chip = root / f"pwmchip{chip}" if chip is not None else find_chip(root, model)
        if not self.chip.is_dir():
            raise HardwareError(f"light.pwm_chip = {chip}: {self.chip} does not exist")
        self.path = self.chip / f"pwm{self.channel}"
        self.period_ns = round(1e9 / frequency)
        self._value = 0.0
        self._closed = False
        self.pin = PinReadback(self)
        self._export()
        # Duty 0 before the period: the kernel refuses a period shorter than the duty already set.
        self._write("duty_cycle", 0)
        self._write("period", self.period_ns)
        self._write("enable", 1)
        log.info("light: hardware PWM %s channel %d (GPIO%d) at %d Hz", self.chip.name, self.channel, pin, frequency)

    def _export(self) -> None:
        if self.path.is_dir():
            return
        try:
            (self.chip / "export").write_text(str(self.channel))
        except OSError as err:
            raise HardwareError(
                f"light: cannot export PWM channel {self.channel} of {self.chip}: "
                f"{err.strerror or err} (is the terminal user in the gpio group?)"
            ) from None
        deadline = time.monotonic() + EXPORT_WAIT_S
        while not (self.path / "enable").exists():
            if time.monotonic() > deadline:
                raise HardwareError(f"light: {self.path} did not appear after exporting channel {self.channel}")
            time.sleep(0.01)

    def _write(self, name: str, value: int) -> None:
        try:
            (self.path / name).write_text(str(value))
        except OSError as err:
            raise HardwareError(f"light: cannot write {value} to {self.path / name}: {err.strerror or err}") from None

    def read_back(self) -> float:
        """The duty the kernel holds now, read from sysfs."""
        if self._closed:
            return 0.0
        try:
            if (self.path / "enable").read_text().strip() != "1":
                return 0.0
            period = int((self.path / "period").read_text())
            return int((self.path / "duty_cycle").read_text()) / period if period else 0.0
        except (OSError, ValueError) as err:
            raise HardwareError(f"light: cannot read {self.path}: {err}") from None

    @property
    def value(self) -> float:
        """The duty last set (0..1); 0 once closed."""
        return 0.0 if self._closed else self._value

    @value.setter
    def value(self, duty: float) -> None:
        if self._closed:
            raise HardwareError(f"light: PWM channel {self.channel} is closed")
        duty = min(max(float(duty), 0.0), 1.0)
        self._write("duty_cycle", int(duty * self.period_ns))  # floor: never above the duty asked (max_duty)
        self._value = duty

    def off(self) -> None:
        """Duty 0 (the channel stays enabled and exported)."""
        if not self._closed:
            self.value = 0.0

    def close(self) -> None:
        """Duty 0, disable and unexport (idempotent; never raises)."""
        if self._closed:
            return
        for name, value in (("duty_cycle", 0), ("enable", 0)):
            try:
                (self.path / name).write_text(str(value))
            except OSError as err:
                log.warning("light: closing %s: %s", self.path / name, err)
        try:
            (self.chip / "unexport").write_text(str(self.channel))
        except OSError as err:
            log.debug("light: unexport %s: %s", self.path, err)
        deadline = time.monotonic() + 0.5  # the kernel removes pwmN at once; a slower sysfs gets a moment
        while self.path.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        self._closed = True
