"""Liveness: an unpredictable active challenge (blinks, optional head turn) checked for the signature of a real face.

The plan (number of blinks, turn side, order) and the delay before the first prompt are drawn from the operating
system's CSPRNG (plan.py), never from the request id. Until the prompt the member is asked to hold still; each
action must start no sooner than ``response_min_s`` after its prompt and finish within ``challenge_time_s``. The
blink prompt asks an exact number (blink.py): more or fewer blinks than asked prompt again, after a fresh delay,
at most ``challenge_restarts`` times. A blink counts only when the blendshapes close and reopen *and* the
landmark geometry shows both eyes' lids sweeping (eyelids.py); a turn counts only when the landmarks no longer
fit one homography (3-D parallax: a turned photo or screen still does). Everything runs on frame time and the
landmarker's output; no image is kept here. Limits: docs/liveness.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from terminal.analysis import codes as C
from terminal.analysis.codes import LIVENESS_TURN_LEFT, LIVENESS_TURN_RIGHT
from terminal.session.blink import BlinkChallenge
from terminal.session.eyelids import RIGID_POINTS, EyelidDeformation
from terminal.session.plan import (
    FAILED,
    PASSED,
    RESTART,
    RUNNING,
    ChallengeResult,
    challenge_plan,
    plan_rng,
    prompt_delay,
    steps,
)

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.session.settings import SessionConfig

log = logging.getLogger(__name__)

__all__ = ["FAILED", "PASSED", "RESTART", "RUNNING", "BlinkChallenge", "LivenessCheck", "TurnChallenge"]
__all__ += ["challenge_plan", "parallax"]
# Gate failures a challenge frame may have: what a blink (or a turn) itself causes. Any other failure (off
# centre, too small, a second face...) and the action under way does not count.
BLINK_ALLOWED = frozenset({C.EYES_CLOSED, C.UNSTEADY, C.BLURRY})
TURN_ALLOWED = BLINK_ALLOWED | {C.POSE_YAW, C.POSE_PITCH, C.POSE_ROLL}


def parallax(a: np.ndarray, b: np.ndarray) -> float:
    """RMS residual of the best homography from landmarks ``a`` to ``b``, relative to the eye span.

    A plane (photo, screen) turning in front of the camera maps by one homography up to landmark jitter; a
    head turning shows parallax between the nose and the face oval that no homography explains.
    """
    pts = list(RIGID_POINTS)
    src, dst = np.asarray(a[pts, :2], np.float32), np.asarray(b[pts, :2], np.float32)
    h, _ = cv2.findHomography(src, dst, 0)
    if h is None:
        return 0.0
    fit = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2)
    span = float(np.linalg.norm(b[33, :2] - b[263, :2])) or 1.0
    return float(np.sqrt(np.mean(np.sum((fit - dst) ** 2, axis=1)))) / span


class TurnChallenge:
    """Passes when the head turns ``min_deg`` of yaw to the asked side with 3-D parallax.

    Yaw is positive when the face turns toward the image's right, which is the member's left on an
    unmirrored camera; ``mirrored`` (camera.hflip) swaps that.
    """

    def __init__(self, cfg: SessionConfig, t0: float, direction: str, mirrored: bool = False) -> None:
        self.cfg = cfg
        self.direction = direction
        self.code = LIVENESS_TURN_LEFT if direction == "left" else LIVENESS_TURN_RIGHT
        sign = 1.0 if direction == "left" else -1.0
        self._sign = -sign if mirrored else sign
        self.result = ChallengeResult(f"turn_{direction}", started=t0)
        self._start_yaw: list[float] = []
        self._start_pts: np.ndarray | None = None
        self._best = 0.0
        self.acting = False
        self.started = self.answered = False  # a turn is one movement: nothing to hold between its parts

    def interrupt(self) -> None:
        """A frame that failed the gate beyond the turn itself: nothing to undo (yaw is re-measured)."""

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.result.outcome != RUNNING:
            return self.result.outcome
        if t - self.result.started > self.cfg.challenge_time_s:
            self.result.detail.update(
                {"reason": "no head turn within the time limit", "turn_deg": round(self._best, 1)}
            )
            self.result.outcome, self.result.ended = FAILED, t
            return FAILED
        if face is None:
            return RUNNING
        if len(self._start_yaw) < 3:
            self._start_yaw.append(face.yaw)
            self._start_pts = np.asarray(face.landmarks, np.float32)
            return RUNNING
        turned = self._sign * (face.yaw - float(np.median(self._start_yaw)))
        self._best = max(self._best, turned)
        self.acting = turned >= self.cfg.turn_min_deg / 2
        if turned >= self.cfg.turn_min_deg and t - self.result.started >= self.cfg.response_min_s:
            assert self._start_pts is not None
            px = parallax(self._start_pts, np.asarray(face.landmarks, np.float32))
            self.result.detail["parallax"] = round(px, 4)
            if px < self.cfg.turn_min_parallax:
                return RUNNING  # turned like a plane: keep waiting (a photo never gets parallax)
            self.result.detail["turn_deg"] = round(turned, 1)
            self.result.outcome, self.result.ended = PASSED, t
            return PASSED
        return RUNNING


class LivenessCheck:
    """Runs the planned prompts one after the other, after a random delay, with the eyelid geometry alongside.

    A wrong answer (blink.py: more or fewer blinks than asked) prompts again: the same plan, a fresh delay, at
    most ``challenge_restarts`` times. The asked number is kept on purpose: a recording of double blinks must
    not get a second draw of the count (docs/liveness.md).
    """

    def __init__(self, cfg: SessionConfig, t0: float, plan: list[str] | None = None, mirrored: bool = False) -> None:
        self.cfg = cfg
        self.t0 = t0
        self._rng = plan_rng(cfg)
        self.plan = plan if plan is not None else challenge_plan(cfg, self._rng)
        self._steps = steps(self.plan)
        self._mirrored = mirrored
        self.passive = EyelidDeformation(cfg.passive_min_deformation, cfg.blink_min_partial) if cfg.passive else None
        self.challenges: list[BlinkChallenge | TurnChallenge] = []
        self.delays: list[float] = []
        self.restarts: list[str] = []
        self._step = 0
        self._t = t0
        self.prompt_at = t0
        self.restarted: str | None = None  # set on the frame a wrong answer restarted the prompts
        self.outcome = RUNNING
        self.reason: str | None = None
        self.ended: float | None = None
        self._begin(t0)

    def _begin(self, t: float) -> None:
        """(Re)start at the first prompt, after a delay from the CSPRNG."""
        delay = prompt_delay(self.cfg, self._rng)
        self.delays.append(round(delay, 3))
        self.prompt_at = t + delay
        self._step = 0
        self.challenges.append(self._make(self._steps[0], self.prompt_at))

    def _make(self, step: tuple[str, int], t: float) -> BlinkChallenge | TurnChallenge:
        kind, count = step
        if kind == "blink":
            return BlinkChallenge(self.cfg, t, self.passive, count)
        return TurnChallenge(self.cfg, t, kind, self._mirrored)

    @property
    def prompted(self) -> bool:
        """True once the current prompt is due (before it, the member is asked to hold still)."""
        return self._t >= self.prompt_at

    @property
    def instruction(self) -> str:
        """The code shown to the member now: HOLD_STILL until the prompt, then the prompt of the running step."""
        return self.challenges[-1].code if self.prompted else C.HOLD_STILL

    @property
    def allowed_failures(self) -> frozenset[str]:
        """Gate codes the current action itself causes (a frame failing anything else does not count)."""
        return BLINK_ALLOWED if isinstance(self.challenges[-1], BlinkChallenge) else TURN_ALLOWED

    @property
    def acting(self) -> bool:
        """True while an action is under way or counted (the identity frame before it is then fixed)."""
        current = self.challenges[-1]
        return current.acting or current.started or self._step > 0

    @property
    def answered(self) -> bool:
        """True once the last prompt was answered (waiting out ``blink_gap_s`` for an extra blink)."""
        return self._step == len(self._steps) - 1 and self.challenges[-1].answered

    def interrupt(self) -> None:
        """A frame failed the gate beyond what the action itself causes: the action under way does not count."""
        self.challenges[-1].interrupt()

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed (a restart is ``restarted``, status running)."""
        self.restarted = None
        if self.outcome != RUNNING:
            return self.outcome
        self._t = t
        if self.passive is not None:
            self.passive.update(face, t)
        current = self.challenges[-1]
        status = current.update(face, t)
        if status == FAILED:
            return self._end(FAILED, t, current.result.detail.get("reason", current.result.kind))
        if status == RESTART:
            why = current.result.detail.get("reason", "wrong answer")
            self.restarts.append(why)
            if len(self.restarts) > self.cfg.challenge_restarts:
                current.result.outcome = FAILED
                return self._end(FAILED, t, f"blinks not as asked {len(self.restarts)} times: {why}")
            log.info("liveness: prompt again (%s)", why)
            self.restarted = why
            self._begin(t)
            return RUNNING
        if status == PASSED:
            if self._step + 1 < len(self._steps):
                self._step += 1
                self.challenges.append(self._make(self._steps[self._step], t))
                return RUNNING
            return self._end(PASSED, t, None)
        return RUNNING

    def fail(self, t: float, reason: str) -> None:
        """End as failed for a reason found outside the challenges (PAD, identity)."""
        self.outcome, self.reason, self.ended = FAILED, reason, self.ended or t

    def _end(self, outcome: str, t: float, reason: str | None) -> str:
        self.outcome, self.reason, self.ended = outcome, reason, t
        log.info("liveness %s after %.2f s%s", outcome, t - self.t0, f": {reason}" if reason else "")
        return outcome

    def to_dict(self) -> dict[str, Any]:
        """The liveness part of the result record."""
        return {
            "enabled": True,
            "outcome": self.outcome if self.outcome != RUNNING else "not_finished",
            "reason": self.reason,
            "plan": list(self.plan),
            "prompt_delay_s": list(self.delays),
            "restarts": len(self.restarts),
            "duration_s": None if self.ended is None else round(self.ended - self.t0, 3),
            "challenges": [c.result.to_dict() for c in self.challenges],
            "passive": self.passive.to_dict() if self.passive is not None else None,
        }
