"""Verification session: guidance, liveness, capture and the result.

``VerificationSession`` (machine.py) is fed frames one at a time; ``run_session`` (runner.py) drives it from a
frame source. See docs/session.md and docs/result-schema.md.

The names are loaded lazily: ``terminal.config`` imports ``terminal.session.settings``, which runs this file
first, and the session machine needs OpenCV; an eager import here made every config load pay for cv2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.session.machine import SessionRequest, VerificationSession
    from terminal.session.runner import run_session
    from terminal.session.states import SessionError, State

__all__ = ["SessionError", "SessionRequest", "State", "VerificationSession", "run_session"]

_WHERE = {
    "SessionRequest": "machine",
    "VerificationSession": "machine",
    "run_session": "runner",
    "SessionError": "states",
    "State": "states",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"terminal.session.{_WHERE[name]}"), name)
    raise AttributeError(name)
