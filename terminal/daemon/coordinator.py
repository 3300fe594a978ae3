"""The session coordinator: owns the busy state, starts sessions (verify command or walk-up), finishes them.

Runs on the frame loop only. Its promises: every accepted request is stored in the ledger before ``accepted``
is replied; the result is stored in the outbox (marking the request answered in the same transaction) before
any event announces it; a session that fails inside (a bug, a light fault) still ends with a ``failed``
result; the busy state is released on every way out, because it *is* ``session is not None``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cv2

from terminal.daemon.alarms import Alarms
from terminal.daemon.recovery import interrupted_record
from terminal.errors import HardwareError, TerminalError
from terminal.light.controller import LightController
from terminal.matching.template import Template
from terminal.privacy import private_dir, write_image
from terminal.report.commands import parse_deadline
from terminal.report.errors import CommandError, StorageError
from terminal.session.machine import SessionRequest, VerificationSession
from terminal.stamps import new_result_id

if TYPE_CHECKING:
    from terminal.camera.frame import Frame
    from terminal.daemon.services import Services

log = logging.getLogger(__name__)


class SessionCoordinator:
    """One session at a time; results stored before they are announced."""

    def __init__(self, svc: Services, alarms: Alarms, busy_elsewhere: Callable[[], bool] = lambda: False) -> None:
        self.svc = svc
        self.alarms = alarms
        self.busy_elsewhere = busy_elsewhere  # a diagnose holding the camera and the light
        self.session: VerificationSession | None = None
        self._accepted = False  # the running session answers a ledger request
        self.sessions_done = 0
        self._held: list[dict[str, Any]] = []  # events that announce a result not yet stored
        self._unstored: list[tuple[dict[str, Any], str | None, list[dict[str, Any]]]] = []
        self._next_walkup = 0.0
        self._quiet_until = 0.0
        self.last_ts = 0.0

    @property
    def busy(self) -> bool:
        """A session runs (or a diagnose): a new one is refused with BUSY."""
        return self.session is not None or self.busy_elsewhere()

    def refusal(self) -> CommandError | None:
        """Why a new session cannot start now (temporary codes), or None."""
        if self.busy:
            return CommandError("BUSY", "a session or a diagnose is running; retry later")
        if "storage_full" in self.alarms or self._unstored:
            return CommandError("STORAGE_FULL", "the state directory is full; results cannot be stored")
        if not self.svc.outbox.accepting():
            return CommandError("OUTBOX_FULL", "results cannot be stored; not starting a session")
        return None

    # ------------------------------------------------------------------ starting
    def verify(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Accept a validated verify command (store it, then start its session); the reply body."""
        rid = payload["request_id"]
        known = self.svc.ledger.get(rid)
        if known is not None:  # a retry of a request the ledger holds: never run twice
            running = self.session is not None and self.session.request.request_id == rid
            return {"accepted": True, "state": "running" if running else known.state, "result_id": known.result_id}
        refusal = self.refusal()
        if refusal is not None:
            raise refusal
        template = Template.from_dict(payload["template"])
        seconds = None
        if payload.get("deadline") is not None:
            seconds = parse_deadline(payload["deadline"]) - time.time()
        if payload.get("timeout_s") is not None:
            seconds = min(seconds if seconds is not None else float("inf"), float(payload["timeout_s"]))
        result_id = new_result_id()
        info = {
            "member_ref": payload.get("member_ref"),
            "deadline": payload.get("deadline"),
            "timeout_s": payload.get("timeout_s"),
            "n_reference": template.count,
            "reference_sha256": template.sha256,
        }
        try:
            self.svc.ledger.accept(rid, result_id, info)  # fsynced before anyone hears "accepted"
        except StorageError as err:
            self.alarms.raise_("storage_full", str(err))
            raise CommandError("STORAGE_FULL", "the request cannot be stored (disk full); not started") from None
        self._start(
            SessionRequest(rid, template, seconds, result_id=result_id, member_ref=payload.get("member_ref")),
            "verify command",
            accepted=True,
        )
        return {"accepted": True, "state": "searching", "result_id": result_id}

    def _start(self, request: SessionRequest, origin: str, *, accepted: bool) -> None:
        svc = self.svc
        devices = svc.light.devices
        light = None
        if devices is not None and svc.camera.source is not None:
            light = LightController(
                svc.cfg.light,
                devices,
                camera=svc.camera.source,
                flicker_hz=svc.cfg.camera.flicker_hz,
                fps=svc.cfg.camera.fps,
            )
        self._accepted = accepted
        self._held = []
        self.session = VerificationSession.from_config(
            svc.cfg, request, svc.gate, svc.matcher, light=light, emit=self._emit, devices=devices
        )
        log.info(
            "session %s started (%s)",
            request.request_id,
            origin,
            extra={"journal": {"SESSION_ID": request.request_id, "TERMINAL_ID": svc.cfg.terminal.id}},
        )

    def _emit(self, event: dict[str, Any]) -> None:
        if event.get("type") == "result":
            self._held.append(event)  # announced only once the result is in the outbox
        else:
            self.svc.link.publish_event(event)

    # ------------------------------------------------------------------ running
    def feed(self, frame: Frame) -> None:
        """One frame: the running session, or a walk-up check."""
        self.last_ts = frame.timestamp
        if self.session is None:
            if self.svc.walkup is not None:
                self._walkup(frame)
            return
        try:
            done = self.session.feed(frame)
        except Exception as err:  # a bug or a GPIO fault inside the session: the member still gets an answer
            self._failed_inside(err)
            return
        if done:
            self.finish()

    def _walkup(self, frame: Frame) -> None:
        if frame.timestamp < max(self._next_walkup, self._quiet_until) or self.refusal() is not None:
            return
        self._next_walkup = frame.timestamp + self.svc.cfg.daemon.walkup_check_s
        assert self.svc.walkup is not None
        if self.svc.gate.analyze(frame.image, frame.timestamp).n_faces == 0:
            return
        rid = f"walkup-{int(time.time() * 1000)}"
        self._start(SessionRequest(rid, self.svc.walkup, None), "walk-up", accepted=False)
        self.feed(frame)

    def _failed_inside(self, err: BaseException) -> None:
        session = self.session
        assert session is not None
        code = "LIGHT_FAULT" if isinstance(err, HardwareError) else "INTERNAL"
        if code == "LIGHT_FAULT":
            self.svc.light.failed(err, "during a session")
        log.error(
            "session %s failed inside: %s: %s",
            session.request.request_id,
            type(err).__name__,
            err,
            extra={"journal": {"SESSION_ID": session.request.request_id, "RESULT": "failed", "REASON": code}},
        )
        log.debug("session traceback", exc_info=True)
        self._held = []
        try:
            session.result = self._failed_record(session, code, f"{type(err).__name__}: {err}"[:300])
        finally:
            self.finish()  # releases the session whatever happened above

    def _failed_record(self, session: VerificationSession, code: str, reason: str) -> dict[str, Any]:
        req = session.request
        return interrupted_record(
            req.request_id,
            req.result_id or new_result_id(),
            self.svc.cfg.terminal.id,
            self.svc.matcher,
            started_at=session.started_at,
            reason_code=code,
            reason=reason,
            member_ref=req.member_ref,
            n_reference=req.reference.count,
            frames=session._frames,
            reference_sha256=req.reference.sha256,
        )

    def cancel(self, reason: str) -> str | None:
        """End the running session as cancelled (its result stored); its request id, or None if idle."""
        if self.session is None:
            return None
        rid = self.session.request.request_id
        if not self.session.done:
            self.session.cancel(reason)
        self.finish()
        return rid

    def source_ended(self) -> None:
        """The camera stopped: the running session ends ``failed``/SOURCE_ENDED."""
        if self.session is not None:
            if not self.session.done:
                self.session.end_of_source()
            self.finish()

    # ------------------------------------------------------------------ finishing
    def finish(self) -> None:
        """Store the result (outbox first), then announce it; light off; busy released (always)."""
        session, self.session = self.session, None
        assert session is not None
        try:
            record = session.result
            if record is None:  # a session that ended without its record (a bug): still one answer
                record = self._failed_record(session, "INTERNAL", "the session ended without a result")
            if self.svc.cfg.terminal.keep_images:
                self._keep_capture(session, record)
            answers = session.request.request_id if self._accepted else None
            if self._store(record, answers, self._held):
                self._log(session, record)
        finally:
            self._held = []
            self.svc.light.idle()  # never raises
            self.sessions_done += 1
            self._quiet_until = self.last_ts + self.svc.cfg.daemon.walkup_cooldown_s

    def _store(self, record: dict[str, Any], answers: str | None, held: list[dict[str, Any]]) -> bool:
        try:
            self.svc.link.publish_result(record, answers=answers)
        except TerminalError as err:
            self.alarms.raise_("storage_full", f"result {record.get('result_id')} not stored yet: {err}")
            self._unstored.append((record, answers, list(held)))
            return False
        for event in held:
            self.svc.link.publish_event(event)
        return True

    def retry_unstored(self) -> None:
        """Results the disk refused: store them once it takes writes again; clear the alarm then."""
        if "storage_full" not in self.alarms:
            return
        pending, self._unstored = self._unstored, []
        for i, (record, answers, held) in enumerate(pending):
            if not self._store(record, answers, held):  # it put itself back on the list
                self._unstored.extend(pending[i + 1 :])
                return
        try:
            self.svc.ledger.probe()
        except StorageError:
            return
        if not self._unstored:
            self.alarms.clear("storage_full", "the state directory takes writes again")

    def _log(self, session: VerificationSession, record: dict[str, Any]) -> None:
        rid = session.request.request_id
        score = record.get("score")
        log.info(
            "session %s: %s%s%s",
            rid,
            record["decision"],
            f" score {score:.3f}" if isinstance(score, float) else "",
            f" ({record.get('reason_code')})" if record.get("reason_code") else "",
            extra={
                "journal": {
                    "SESSION_ID": rid,
                    "TERMINAL_ID": self.svc.cfg.terminal.id,
                    "RESULT": record["decision"],
                    "REASON": record.get("reason_code") or "",
                }
            },
        )

    def _keep_capture(self, session: VerificationSession, record: dict[str, Any]) -> None:
        """``keep_images``: the session's best frame, owner-only, under <state_dir>/captures (never sent)."""
        if session.kept_frame is None:
            return
        path = self.svc.cfg.terminal.state_dir / "captures" / f"{record['result_id']}.jpg"
        try:
            private_dir(path.parent)
            write_image(path, cv2.cvtColor(session.kept_frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
            session.kept_frame = None
            record["capture_file"] = path.name
        except TerminalError as err:
            log.error("keep_images: %s", err)

    def describe(self) -> dict[str, Any] | None:
        """The running session for health and STATUS= (frame loop only)."""
        s = self.session
        return None if s is None else {"state": s.state.value, "request_id": s.request.request_id}
