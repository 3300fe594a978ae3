"""Verification session: guidance, liveness, capture and the result record.

``VerificationSession`` (machine.py) is fed frames one at a time; ``run_session`` (runner.py) drives it from a
frame source. See docs/session.md and docs/result-schema.md.
"""

from terminal.session.machine import SessionRequest, VerificationSession
from terminal.session.runner import run_session
from terminal.session.states import SessionError, State

__all__ = ["SessionError", "SessionRequest", "State", "VerificationSession", "run_session"]
