"""The one owner of the ring light, status LEDs and buzzer in the daemon: nothing it does ever raises.

Only the frame loop calls it. A GPIO that fails (at open, while dimming, or when turning off at the end of a
session) is logged at ERROR with journal fields, raises the health alarm ``light_fault`` and the light is
taken out of service: sessions go on with the camera's exposure alone, and the daemon never ends because of
the light. ``reopen`` (SIGHUP reload of ``[light]``) tries again.
"""

from __future__ import annotations

import logging
from typing import Any

from terminal.light.devices import LightDevices, Status
from terminal.light.settings import LightConfig

log = logging.getLogger(__name__)


class LightOwner:
    """Opens, switches and closes the light devices; records a fault instead of raising."""

    def __init__(self, cfg: LightConfig, pin_factory: Any = None) -> None:
        self.cfg = cfg
        self.pin_factory = pin_factory
        self._devices: LightDevices | None = None
        self.fault: str | None = None
        self.faults = 0
        self.reopen(cfg)

    @property
    def devices(self) -> LightDevices | None:
        """The devices for a new session, or None (disabled, or out of service after a fault)."""
        return None if self.fault is not None else self._devices

    def reopen(self, cfg: LightConfig) -> None:
        """Close what is open and open the devices of ``cfg`` again (start, reload)."""
        self.close()
        self.cfg = cfg
        self.fault = None
        if not cfg.enabled:
            return
        try:
            self._devices = LightDevices.from_config(cfg, self.pin_factory)
            self._devices.off()
            self._devices.show("idle")
        except Exception as err:  # a dead GPIO must not stop verification
            self.failed(err, "open")

    def failed(self, err: BaseException, doing: str) -> None:
        """Record a light fault: log it with journal fields, raise the alarm, take the light out of service."""
        self.faults += 1
        first = self.fault is None
        self.fault = f"{doing}: {type(err).__name__}: {err}"
        if first:
            log.error(
                "ring light fault (%s); sessions continue without the light: %s",
                doing,
                err,
                extra={"journal": {"RESULT": "light_down", "REASON": "LIGHT_FAULT"}},
            )

    def off(self) -> None:
        """Ring light off now. Never raises: a failure is logged and alarmed."""
        if self._devices is None:
            return
        try:
            self._devices.off()
        except Exception as err:
            self.failed(err, "off")

    def show(self, state: Status) -> None:
        """Status LED ``state`` (idle/working/pass/fail). Never raises."""
        if self._devices is None:
            return
        try:
            self._devices.show(state)
        except Exception as err:
            self.failed(err, f"show {state}")

    def idle(self) -> None:
        """Between sessions: light off, the ready LED on."""
        self.off()
        self.show("idle")

    def describe(self) -> dict[str, Any]:
        """Snapshot for health (read on the frame loop only)."""
        duty = None
        if self._devices is not None:
            try:
                duty = round(self._devices.duty, 3)
            except Exception:  # a broken pin reads as unknown, not as a crash
                duty = None
        return {"available": self.devices is not None, "error": self.fault, "duty": duty, "faults": self.faults}

    def close(self) -> None:
        """Everything off and the pins released. Never raises."""
        if self._devices is not None:
            devices, self._devices = self._devices, None
            try:
                devices.off()
            except Exception as err:
                self.failed(err, "off at close")
            try:
                devices.close()
            except Exception as err:
                log.warning("light: releasing the pins failed: %s", err)
