"""Debounced guidance: one instruction at a time, held long enough to read, never flickering."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from terminal.analysis.guidance import message

log = logging.getLogger(__name__)


@dataclass
class GuidanceEvent:
    """A message shown to the member: its code, the frame time it appeared and its text per language."""

    code: str
    t: float
    text: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The event as the session emits it."""
        return {"type": "guidance", "code": self.code, "t": round(self.t, 3), "text": dict(self.text)}


class GuidanceDebouncer:
    """Turns a per-frame wish ("show code X now") into a calm sequence of messages, on frame time.

    A shown message stays at least ``hold_s``; a different wish must persist ``confirm_s`` before it
    replaces it, so one noisy frame never changes the screen. ``urgent`` wishes (a decision, a failed
    check) skip both waits because the session ends with them.
    """

    def __init__(self, hold_s: float = 1.2, confirm_s: float = 0.25, languages: Sequence[str] = ("id", "en")) -> None:
        self.hold_s = hold_s
        self.confirm_s = confirm_s
        self.languages = tuple(languages)
        self.current: str | None = None
        self.shown_at = 0.0
        self._pending: str | None = None
        self._pending_since = 0.0
        self.history: list[GuidanceEvent] = []

    def reset(self) -> None:
        """Forget the shown message and the history."""
        self.current = None
        self._pending = None
        self.history.clear()

    def update(self, wanted: str | None, t: float, urgent: bool = False) -> GuidanceEvent | None:
        """Offer the code wanted at frame time ``t``; returns the event when the screen changes."""
        if wanted is None or wanted == self.current:
            self._pending = None
            return None
        if urgent:
            return self._show(wanted, t)
        if wanted != self._pending:
            self._pending, self._pending_since = wanted, t
        held = self.current is None or t - self.shown_at >= self.hold_s
        confirmed = t - self._pending_since >= self.confirm_s
        if held and confirmed:
            return self._show(wanted, t)
        return None

    def _show(self, code: str, t: float) -> GuidanceEvent:
        self.current, self.shown_at, self._pending = code, t, None
        event = GuidanceEvent(code=code, t=t, text={lang: message(code, lang) for lang in self.languages})
        self.history.append(event)
        log.debug("guidance %s at %.3f", code, t)
        return event
