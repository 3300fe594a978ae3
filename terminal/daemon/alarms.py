"""Health alarms of the daemon (light_fault, storage_full, link_down, ...): raised once, cleared once, logged.

Raising an alarm writes one journal entry (CRITICAL for the ones that stop the terminal from doing its job);
clearing it writes one WARNING. ``active()`` is what the health message and STATUS= show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Alarms:
    """Named alarms with their message and since when."""

    def __init__(self) -> None:
        self._active: dict[str, tuple[str, float]] = {}

    def raise_(self, name: str, message: str, level: int = logging.CRITICAL) -> bool:
        """Set alarm ``name``; logs at ``level`` the first time only; True if it was newly raised."""
        if name in self._active:
            self._active[name] = (message, self._active[name][1])
            return False
        self._active[name] = (message, time.monotonic())
        log.log(level, "ALARM %s: %s", name, message, extra={"journal": {"RESULT": "alarm", "REASON": name.upper()}})
        return True

    def clear(self, name: str, note: str = "") -> bool:
        """Clear alarm ``name`` (logged once); True if it was set."""
        if self._active.pop(name, None) is None:
            return False
        log.warning(
            "alarm %s cleared%s",
            name,
            f": {note}" if note else "",
            extra={"journal": {"RESULT": "alarm_cleared", "REASON": name.upper()}},
        )
        return True

    def set(self, name: str, on: bool, message: str = "", level: int = logging.CRITICAL) -> None:
        """Raise or clear ``name`` to match ``on``."""
        if on:
            self.raise_(name, message, level)
        else:
            self.clear(name)

    def __contains__(self, name: str) -> bool:
        return name in self._active

    def active(self) -> list[str]:
        """Names of the alarms now set."""
        return sorted(self._active)

    def describe(self) -> dict[str, Any]:
        """Name -> message and seconds active."""
        now = time.monotonic()
        return {k: {"message": m, "for_s": round(now - t, 1)} for k, (m, t) in sorted(self._active.items())}


class LinkWatch:
    """Raises ``link_down`` (CRITICAL) when the link has not been up for ``alarm_after_s``, whatever the
    reason (no broker, a dead or stalled thread); clears it when the link is up again."""

    def __init__(self, alarm_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.alarm_after_s = alarm_after_s
        self._clock = clock
        self._bad_since: float | None = None

    def check(self, alarms: Alarms, state: dict[str, Any]) -> None:
        """Feed the link's state (``MqttLink.state()``) once per tick."""
        if state["state"] in ("up", "disabled"):
            self._bad_since = None
            alarms.clear("link_down", "the MQTT link is up")
            return
        now = self._clock()
        if self._bad_since is None:
            self._bad_since = now - float(state.get("down_for_s") or 0.0)
        bad_for = now - self._bad_since
        if bad_for >= self.alarm_after_s:
            alarms.raise_(
                "link_down",
                f"MQTT link {state['state']} for {bad_for:.0f} s (broker {state.get('broker')}); "
                "results wait in the outbox",
            )
