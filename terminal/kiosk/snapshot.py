"""The member screen's state, built in the frame loop from what the daemon owns, as a small plain dict.

Called once per frame (and while the camera is down) on the frame-loop thread, so it may read the session
freely; the dict it returns is never changed afterwards, so other threads (page server, voice) read it
without locks. ``key`` says whether anything a member would notice changed since the last one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from terminal.analysis import codes as C
from terminal.kiosk.texts import reason_text, text

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.session.machine import VerificationSession

STEPS = ("searching", "guiding", "liveness", "capturing", "matching", "done")
_FRAMING_BAD = C.FRAMING_CODES | {C.NO_FACE, C.MULTIPLE_FACES}
RESULT_CODES = {
    "match": "RESULT_MATCH",
    "no_match": "RESULT_NO_MATCH",
    "failed": "RESULT_FAILED",
    "timeout": "RESULT_TIMEOUT",
    "cancelled": "RESULT_CANCELLED",
}


def session_view(session: VerificationSession, frame_t: float | None, langs: tuple[str, ...]) -> dict[str, Any]:
    """State, instruction, liveness prompt, progress, countdown and framing of a running session."""
    state = session.state.value
    if state == "idle":
        state = "searching"
    verdict = getattr(session, "verdict", None)
    # Before the debouncer has shown its first message, the gate's own instruction (never an empty screen).
    code = (
        session.guidance.current
        or (verdict.instruction if verdict is not None else None)
        or (C.HOLD_STILL if verdict is not None and verdict.n_faces else C.NO_FACE)
    )
    live = session.liveness
    prompt = None  # the liveness band: only once the prompt is due (before it the member holds still)
    if live is not None and live.outcome == "running" and state == "liveness" and live.prompted:
        prompt = live.instruction
    remaining = None
    start = session.timings.start
    if start is not None and frame_t is not None:
        req = session.request.deadline
        limit = session.cfg.timeout_s if req is None else min(session.cfg.timeout_s, max(req, 0.0))
        remaining = round(max(0.0, limit - (frame_t - start)), 2)
    framing = None
    if verdict is not None:
        framing = bool(verdict.n_faces == 1 and not _FRAMING_BAD & set(verdict.failures))
    return {
        "screen": state,
        "code": code,
        "text": text(code, langs),
        "liveness": prompt,
        "liveness_text": text(prompt, langs),
        "step": STEPS.index(state) if state in STEPS else 0,
        "steps": len(STEPS) - 1,
        "remaining_s": remaining,
        "framing_ok": framing,
        "request_id": session.request.request_id,
    }


def result_view(record: dict[str, Any], langs: tuple[str, ...]) -> dict[str, Any]:
    """The result screen: decision, its headline and the dominant reason in plain words."""
    decision = str(record.get("decision"))
    code = RESULT_CODES.get(decision, "RESULT_FAILED")
    reason = record.get("reason_code") if decision in ("failed", "timeout", "cancelled") else None
    return {
        "screen": "result",
        "decision": decision,
        "code": code,
        "text": text(code, langs),
        "reason_code": reason,
        "reason_text": reason_text(reason, langs),
        "request_id": record.get("request_id"),
        "voice": f"{code}+{reason}" if reason else code,
    }


class SnapshotBuilder:
    """Keeps what outlives one frame (the last result, the outbox check) and builds each snapshot."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.langs = tuple(cfg.session.languages)
        self.seq = 0
        self._session: VerificationSession | None = None
        self._result: dict[str, Any] | None = None
        self._result_until = 0.0
        self._outbox_ok = True
        self._outbox_checked = 0.0

    def build(self, daemon: Any, frame_t: float | None, request_screen: str | None) -> dict[str, Any]:
        """The snapshot for this frame (``frame_t`` None: no frame, the camera is down)."""
        now = time.monotonic()
        session = daemon.session
        if self._session is not None and session is not self._session and self._session.result is not None:
            self._result = result_view(self._session.result, self.langs)
            self._result_until = now + self.cfg.kiosk.result_hold_s
        self._session = session
        view: dict[str, Any]
        if session is not None and not session.done:
            view = session_view(session, frame_t, self.langs)
            view["voice"] = view["liveness"] or view["code"]
        elif self._result is not None and now < self._result_until:
            view = dict(self._result)
        else:
            oos = self._out_of_service(daemon, now)
            if oos is not None:
                view = {"screen": "out_of_service", "code": oos, "text": text(oos, self.langs), "voice": oos}
            elif request_screen == "waiting":
                view = {
                    "screen": "waiting",
                    "code": "SCREEN_WAITING",
                    "text": text("SCREEN_WAITING", self.langs),
                    "voice": "SCREEN_WAITING",
                }
            elif request_screen == "request_timeout":
                view = {
                    "screen": "request_timeout",
                    "code": "REQUEST_TIMEOUT",
                    "text": text("REQUEST_TIMEOUT", self.langs),
                    "voice": "REQUEST_TIMEOUT",
                }
            else:
                idle = "SCREEN_IDLE_WALKUP" if daemon.walkup_reference is not None else "SCREEN_IDLE"
                view = {"screen": "idle", "code": idle, "text": text(idle, self.langs), "voice": None}
        self.seq += 1
        view["seq"] = self.seq
        view["ts"] = time.time()
        return view

    def _out_of_service(self, daemon: Any, now: float) -> str | None:
        if self.cfg.kiosk.maintenance:
            return "OOS_MAINTENANCE"
        if daemon.camera.state not in ("up",):
            return "OOS_CAMERA" if daemon.camera.state == "down" else "OOS_STARTING"
        if now - self._outbox_checked >= 1.0 and daemon.outbox is not None:
            self._outbox_checked = now
            self._outbox_ok = daemon.outbox.accepting()
        return None if self._outbox_ok else "OOS_OUTBOX"


def change_key(view: dict[str, Any]) -> tuple[Any, ...]:
    """What a member would notice: a new key means push now; otherwise the heartbeat carries it."""
    return (
        view.get("screen"),
        view.get("code"),
        view.get("liveness"),
        view.get("framing_ok"),
        view.get("decision"),
        view.get("request_id"),
    )
