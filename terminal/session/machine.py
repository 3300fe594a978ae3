"""The verification session: a state machine fed frame by frame, on frame time, ending in exactly one result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.analysis import codes as C
from terminal.errors import TerminalError
from terminal.session.binding import LiveFace
from terminal.session.capture import BestFrames, SteadyRun
from terminal.session.guidance import GuidanceDebouncer
from terminal.session.identity import IDENTITY_MISMATCH
from terminal.session.liveness import FAILED, PASSED, LivenessCheck
from terminal.session.options import session_options
from terminal.session.outcome import build_result
from terminal.session.probe import match_best
from terminal.session.request import SessionRequest
from terminal.session.settings import SessionConfig
from terminal.session.states import SessionError, State, StateMachine
from terminal.session.tally import QualityTally, Timings
from terminal.stamps import utc_iso

if TYPE_CHECKING:
    from terminal.analysis.gate import QualityGate
    from terminal.analysis.verdict import Verdict
    from terminal.camera.frame import Frame
    from terminal.config.schema import Config
    from terminal.light.controller import LightController, LightState
    from terminal.light.devices import LightDevices
    from terminal.matching.decision import Matcher, MatchResult
    from terminal.pad.base import PadBackend, PadFusion

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]
# Codes the member cannot act on during the blink challenge (the blink itself closes the eyes and moves the head).
_LIVENESS_QUIET = frozenset({C.EYES_CLOSED, C.UNSTEADY, C.BLURRY, C.POSE_YAW, C.POSE_PITCH, C.POSE_ROLL})


class VerificationSession:
    """Walk-up to result for one member: search, guide, liveness, capture, match; ``feed`` one frame at a time."""

    def __init__(
        self,
        request: SessionRequest,
        gate: QualityGate,
        matcher: Matcher,
        config: SessionConfig,
        light: LightController | None = None,
        emit: Emit | None = None,
        *,
        devices: LightDevices | None = None,
        terminal_id: str = "terminal-dev",
        landmarker_model: tuple[str, str] | None = None,
        mirrored: bool = False,
        keep_best: bool = False,
        pad: PadFusion | None = None,
    ) -> None:
        self.request = request
        self.gate = gate
        self.matcher = matcher
        self.cfg = config
        self.light = light
        self.devices = devices
        self.terminal_id = terminal_id
        self.landmarker_model = landmarker_model
        self.mirrored = mirrored
        self.keep_best = keep_best
        self.kept_frame: np.ndarray | None = None
        self._emit = emit or (lambda event: None)
        self.machine = StateMachine()
        self.guidance = GuidanceDebouncer(config.guidance_hold_s, config.guidance_confirm_s, config.languages)
        self.best = BestFrames(config.best_k)
        self.steady = SteadyRun(config.steady_frames)
        self.tally = QualityTally()
        self.timings = Timings()
        self.liveness: LivenessCheck | None = None
        min_cos = config.identity_min_cosine if config.identity_min_cosine is not None else matcher.threshold
        self.live_face = LiveFace(config, pad, min_cos)
        self.result: dict[str, Any] | None = None
        self.verdict: Verdict | None = None  # the last frame's gate verdict (member screen: framing oval)
        self.started_at = utc_iso()
        self._limit = (
            config.timeout_s if request.deadline is None else min(config.timeout_s, max(request.deadline, 0.0))
        )
        self._t = 0.0
        self._frames = 0
        self._last_face_t: float | None = None
        self._capture_start: float | None = None
        self._light_state: LightState | None = None
        self._announced: set[str] = set()
        self._bad_reference: TerminalError | None = None
        try:
            matcher.check_template(request.reference)
        except TerminalError as err:  # reported as a failed result, not raised: every request gets its answer
            self._bad_reference = err
        gate.reset()
        if light is not None:
            light.reset()

    @classmethod
    def from_config(
        cls,
        cfg: Config,
        request: SessionRequest,
        gate: QualityGate,
        matcher: Matcher,
        light: LightController | None = None,
        emit: Emit | None = None,
        devices: LightDevices | None = None,
        pad: PadBackend | None = None,
    ) -> VerificationSession:
        """A session with terminal id, model names, camera mirroring and PAD (``[pad]``) from the whole config."""
        return cls(request, gate, matcher, cfg.session, light, emit, devices=devices, **session_options(cfg, pad))

    # -- public ---------------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current state."""
        return self.machine.state

    @property
    def done(self) -> bool:
        """True once the result exists."""
        return self.machine.done

    def feed(self, frame: Frame) -> bool:
        """Process one frame; True when the session is done (its ``result`` is then set)."""
        if self.done:
            return True
        t = float(frame.timestamp)
        self._t = t
        self._frames += 1
        if self.state is State.IDLE:
            self.timings.start = t
            if self.devices is not None:
                self.devices.show("working")
            self._go(State.SEARCHING, t)
            if self._bad_reference is not None:
                self._finish(
                    "failed", t, reason_code="BAD_REFERENCE", reason=str(self._bad_reference), shown=C.NO_MATCH
                )
                return True
        verdict = self.verdict = self.gate.analyze(frame.image, t)
        self.tally.add(verdict.failures, verdict.passed, verdict.n_faces, verdict.quality)
        self._update_light(frame, verdict, t)
        face = verdict.face if verdict.n_faces else None
        if face is not None:
            self.timings.mark("first_face", t)
            self._last_face_t = t
        if verdict.passed:
            self.timings.mark("first_pass", t)
        steady = self.steady.update(verdict.passed)
        start = self.timings.start if self.timings.start is not None else t
        if t - start >= self._limit:
            self._timeout(t)
            return True
        self._step(frame, verdict, steady, t)
        return self.done

    def cancel(self, reason: str = "cancelled") -> None:
        """End the session now with decision ``cancelled`` (no-op when already done)."""
        if not self.done:
            self._finish("cancelled", self._t, reason_code="CANCELLED", reason=reason, shown=None)

    def end_of_source(self) -> None:
        """The frame source ended before a decision: ``failed`` with SOURCE_ENDED and the dominant reasons."""
        if not self.done:
            summary = self.tally.summary()
            self._finish("failed", self._t, reason_code="SOURCE_ENDED", reason=f"frames ended ({summary})", shown=None)

    # -- the steps ------------------------------------------------------------------------------------------
    def _step(self, frame: Frame, verdict: Verdict, steady: bool, t: float) -> None:
        face = verdict.face if verdict.n_faces else None
        if (
            self.state is not State.SEARCHING
            and face is None
            and self._last_face_t is not None
            and t - self._last_face_t > self.cfg.face_lost_s
        ):
            self.best.clear()  # the next face may be someone else: never mix two people's frames
            self._capture_start = None
            if self.cfg.liveness:  # nor keep their liveness or challenge frames (hostile review)
                self.liveness = None
                self.live_face.reset()
            self._go(State.SEARCHING, t)
        if self.state in (State.LIVENESS, State.CAPTURING) and self.cfg.liveness and self._track_broke(verdict, t):
            return
        if self.state is State.SEARCHING:
            if face is not None:
                self._go(State.GUIDING, t)
            else:
                self._say(verdict.instruction or C.NO_FACE, t)
                return
        if self.state is State.GUIDING:
            if steady:
                if self.guidance.current in C.GATE_CODES:
                    self._say(C.HOLD_STILL, t, urgent=True)  # positive confirmation: the correction worked
                live_ok = not self.cfg.liveness or (self.liveness is not None and self.liveness.outcome == PASSED)
                if live_ok:
                    self._start_capture(t)
                else:
                    self._go(State.LIVENESS, t)
                    if self.liveness is None:
                        self.liveness = LivenessCheck(self.cfg, t, mirrored=self.mirrored)
            else:
                self._say(verdict.instruction or C.HOLD_STILL, t)
                return
        if self.state is State.LIVENESS:
            self._liveness_step(frame, verdict, t)
        elif self.state is State.CAPTURING:
            self._capture_step(frame, verdict, steady, t)

    def _liveness_step(self, frame: Frame, verdict: Verdict, t: float) -> None:
        assert self.liveness is not None
        face = verdict.face if verdict.n_faces else None
        if verdict.passed and face is not None:
            self.best.offer(verdict.quality, t, frame.image, face)  # collect while waiting for the blink
            if verdict.clean:  # PAD and the identity check take no frame with an advisory code (eyes closing)
                self.live_face.offer(
                    frame.image, face, t, self.liveness.acting, done=self.liveness.answered, sharpness=verdict.sharpness
                )
        if face is not None and not set(verdict.failures) <= self.liveness.allowed_failures:
            self.liveness.interrupt()  # e.g. an off-centre or too small face: its blink is not an answer
            face = None
        status = self.liveness.update(face, t)
        if self.liveness.restarted is not None:  # more or fewer blinks than asked: prompt again, new frames
            self.live_face.identity.reset()
            self._emit_event({"type": "liveness", "event": "prompt_again", "reason": self.liveness.restarted})
            self._say(C.HOLD_STILL, t, urgent=True)
        if status == FAILED:
            self.timings.mark("liveness_done", t)
            self._emit_event({"type": "liveness", "outcome": FAILED, "reason": self.liveness.reason})
            self._finish(
                "failed", t, reason_code=C.LIVENESS_FAILED, reason=self.liveness.reason, shown=C.LIVENESS_FAILED
            )
        elif status == PASSED:
            self.timings.mark("liveness_done", t)
            self._emit_event({"type": "liveness", "outcome": PASSED, "reason": None})
            if verdict.clean and face is not None:
                self.live_face.identity.offer(frame.image, face, t, acting=False, done=True)
            self._start_capture(t)
            self._capture_step(frame, verdict, self.steady.run >= self.steady.need, t, offered=True)
        else:
            loud = [c for c in verdict.failures if c not in _LIVENESS_QUIET]
            code = loud[0] if loud else self.liveness.instruction
            self._say(code, t, urgent=code in C.LIVENESS_PROMPTS)  # the prompt shows when it is due, not later

    def _start_capture(self, t: float) -> None:
        if self._capture_start is None:
            self._capture_start = t
        self._go(State.CAPTURING, t)

    def _capture_step(self, frame: Frame, verdict: Verdict, steady: bool, t: float, offered: bool = False) -> None:
        face = verdict.face if verdict.n_faces else None
        if verdict.passed and face is not None and not offered:
            self.best.offer(verdict.quality, t, frame.image, face)
            if self.liveness is not None and verdict.clean:
                self.live_face.offer(frame.image, face, t, acting=False, done=True, sharpness=verdict.sharpness)
        enough = self.best.seen >= self.cfg.capture_frames and steady
        waited = self._capture_start is not None and t - self._capture_start >= self.cfg.capture_max_s
        if len(self.best) and (enough or waited):
            self._match(t)
            return
        self._say(C.HOLD_STILL if verdict.passed else (verdict.instruction or C.HOLD_STILL), t)

    def _track_broke(self, verdict: Verdict, t: float) -> bool:
        """The challenge and capture must be one face: a broken track drops everything and starts again."""
        reason = self.live_face.broken(verdict.face if verdict.n_faces else None, verdict.n_faces, t)
        if reason is None:
            return False
        self.best.clear()
        self._capture_start, self.liveness = None, None
        self.steady.reset()
        self._emit_event({"type": "liveness", "event": "restart", "reason": reason})
        self._go(State.GUIDING, t)
        self._say(verdict.instruction or C.HOLD_STILL, t)
        return True

    def _refuse(self, t: float, reason: str, code: str) -> None:
        if self.liveness is not None:
            self.liveness.fail(t, reason)
        self._emit_event({"type": "liveness", "outcome": FAILED, "reason": reason})
        self._finish("failed", t, reason_code=code, reason=reason, shown=C.LIVENESS_FAILED)

    def _match(self, t: float) -> None:
        if self.cfg.liveness and (why := self.live_face.pad_reason()) is not None:
            self._refuse(t, why, C.LIVENESS_FAILED)
            return
        self._go(State.MATCHING, t)
        self._say(C.CAPTURED, t, urgent=True)
        live_face = self.live_face if self.cfg.liveness else None
        end = match_best(self.matcher, self.best.best(), self.request.reference, live_face, self.cfg.include_embedding)
        if end.refusal is not None:
            self._refuse(t, end.refusal, IDENTITY_MISMATCH)
            return
        self._finish(
            end.decision,
            t,
            reason_code=end.reason_code,
            reason=end.reason,
            shown=end.shown,
            match=end.match,
            embedding=end.embedding,
        )

    def _timeout(self, t: float) -> None:
        at_max = False
        if self.light is not None and self._light_state is not None:
            at_max = self._light_state.duty >= self.light.cfg.max_duty - 1e-3
        dom = self.tally.dominant(1)
        code = dom[0]["code"] if dom else "TIMEOUT"
        self._finish("timeout", t, reason_code=code, reason=self.tally.summary(light_at_max=at_max), shown=code)

    # -- helpers --------------------------------------------------------------------------------------------
    def _update_light(self, frame: Frame, verdict: Verdict, t: float) -> None:
        if self.light is None:
            return
        self._light_state = self.light.update(
            frame.image,
            verdict.face_box,
            verdict.face_luma,
            uneven=C.UNEVEN_LIGHT in verdict.reported,  # the light evens a face out whether or not it blocks
            metadata=frame.metadata,
        )
        if self._light_state.converged and self.timings.light_converged is None:
            self.timings.mark("light_converged", t)
            self._emit_event({"type": "light", "event": "converged", "duty": round(self._light_state.duty, 3)})
        if C.LIGHT_FAULT in self._light_state.faults and C.LIGHT_FAULT not in self._announced:
            # Announced once: wished every frame it would fight the gate's instruction in the debouncer
            # (two wishes a frame never stay 0.25 s) and the screen would freeze.
            self._announced.add(C.LIGHT_FAULT)
            self._say(C.LIGHT_FAULT, t, urgent=True)

    def _go(self, state: State, t: float) -> None:
        if self.machine.go(state, t):
            self._emit_event({"type": "state", "state": state.value})

    def _say(self, code: str, t: float, urgent: bool = False) -> None:
        event = self.guidance.update(code, t, urgent=urgent)
        if event is not None:
            self._emit_event(event.to_dict())

    def _emit_event(self, event: dict[str, Any]) -> None:
        start = self.timings.start if self.timings.start is not None else self._t
        event["t"] = round(float(event.get("t", self._t)) - start, 3)  # seconds of frame time since the first frame
        event["request_id"] = self.request.request_id
        try:
            self._emit(event)
        except Exception:  # a broken listener must never stop the session
            log.exception("session: event listener failed")

    def _finish(
        self,
        decision: str,
        t: float,
        *,
        reason_code: str | None = None,
        reason: str | None = None,
        shown: str | None = None,
        match: MatchResult | None = None,
        embedding: np.ndarray | None = None,
    ) -> None:
        if self.done:
            raise SessionError("session already has its result")
        self.timings.mark("decision", t)
        if shown is not None:
            self._say(shown, t, urgent=True)
        self.machine.go(State.DONE, t)
        if self.keep_best and len(self.best):
            self.kept_frame = self.best.best()[0].image  # terminal.keep_images: the daemon stores it, owner-only
        self.best.clear()  # drop the frames as soon as they are not needed
        if self.light is not None:
            self.light.off()
        if self.devices is not None:
            ok = decision == "match"
            self.devices.show("pass" if ok else "fail")
            self.devices.beep("ok" if ok else "fail")
        self.result = build_result(
            self,
            decision,
            reason_code,
            reason,
            shown,
            match,
            embedding,
            light_state=self._light_state,
            frames=self._frames,
        )
        self._emit_event({"type": "state", "state": State.DONE.value})
        self._emit_event(
            {"type": "result", "decision": decision, "reason_code": reason_code, "result_id": self.result["result_id"]}
        )
        log.info("session %s: %s%s", self.request.request_id, decision, f" ({reason_code})" if reason_code else "")
