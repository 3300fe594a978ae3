"""The states of a verification session and the transitions allowed between them."""

from __future__ import annotations

import logging
from enum import StrEnum

from terminal.errors import TerminalError

log = logging.getLogger(__name__)


class SessionError(TerminalError):
    """A verification session was used in a way its state does not allow."""

    exit_code = 70  # EX_SOFTWARE: a programming error in the caller, not the member's fault


class State(StrEnum):
    """Where the member is in the session."""

    IDLE = "idle"  # created, no frame yet
    SEARCHING = "searching"  # no face in view
    GUIDING = "guiding"  # a face, but the gate fails: tell the member what to change
    LIVENESS = "liveness"  # the gate passes: the active challenge runs (frames are collected meanwhile)
    CAPTURING = "capturing"  # liveness passed (or off): collect the steady run of best frames
    MATCHING = "matching"  # embed the best frames and compare with the reference
    DONE = "done"  # exactly one result exists


# Any state may also go to DONE (timeout, cancel, failure); listed here are the ordinary steps.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.IDLE: frozenset({State.SEARCHING}),
    State.SEARCHING: frozenset({State.GUIDING}),
    State.GUIDING: frozenset({State.SEARCHING, State.LIVENESS, State.CAPTURING}),
    State.LIVENESS: frozenset({State.SEARCHING, State.GUIDING, State.CAPTURING}),  # GUIDING: track broke
    State.CAPTURING: frozenset({State.SEARCHING, State.GUIDING, State.MATCHING}),
    State.MATCHING: frozenset(),
    State.DONE: frozenset(),
}


class StateMachine:
    """Holds the current state and refuses transitions the table does not allow."""

    def __init__(self) -> None:
        self.state = State.IDLE
        self.history: list[tuple[State, float]] = []

    def go(self, new: State, t: float) -> bool:
        """Move to ``new`` at frame time ``t``; False if already there; SessionError if not allowed."""
        if new is self.state:
            return False
        if self.state is State.DONE:
            raise SessionError(f"session already done, cannot go to {new.value}")
        if new is not State.DONE and new not in TRANSITIONS[self.state]:
            raise SessionError(f"session cannot go from {self.state.value} to {new.value}")
        log.debug("session %s -> %s at %.3f", self.state.value, new.value, t)
        self.state = new
        self.history.append((new, t))
        return True

    @property
    def done(self) -> bool:
        """True once the session has its result."""
        return self.state is State.DONE
