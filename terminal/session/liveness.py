"""Liveness: an unpredictable active challenge (blinks, optional head turn) checked for the signature of a real face.

The plan (number of blinks, turn side, order) is drawn from the operating system's CSPRNG (``secrets``), never
from the request id; a test or a replay may fix ``[session] seed``. Each action must start no sooner than
``response_min_s`` after its prompt and finish within ``challenge_time_s``. A blink counts only when the
blendshapes close and reopen *and* the landmark geometry shows both eyes' lids sweeping (eyelids.py); a turn
counts only when the landmarks no longer fit one homography (3-D parallax: a turned photo or screen still
does). Everything runs on frame time and the landmarker's output; no image is kept here. Limits: docs/liveness.md.
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from terminal.analysis import codes as C
from terminal.analysis.codes import LIVENESS_BLINK, LIVENESS_TURN_LEFT, LIVENESS_TURN_RIGHT
from terminal.session.eyelids import RIGID_POINTS, EyelidDeformation

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.session.settings import SessionConfig

log = logging.getLogger(__name__)

RUNNING, PASSED, FAILED = "running", "passed", "failed"
# Gate failures a challenge frame may have: what a blink (or a turn) itself causes. Any other failure (off
# centre, too small, a second face...) and the action under way does not count.
BLINK_ALLOWED = frozenset({C.EYES_CLOSED, C.UNSTEADY, C.BLURRY})
TURN_ALLOWED = BLINK_ALLOWED | {C.POSE_YAW, C.POSE_PITCH, C.POSE_ROLL}


@dataclass
class ChallengeResult:
    """What one challenge saw: kind, outcome, when it started and ended, and its measured values."""

    kind: str
    outcome: str = RUNNING
    started: float = 0.0
    ended: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (numbers only, nothing biometric)."""
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "duration_s": None if self.ended is None else round(self.ended - self.started, 3),
            **self.detail,
        }


class BlinkChallenge:
    """Passes when both eyes close and reopen (blendshapes eyeBlinkLeft/Right) like real lids, in the window.

    The closed threshold adapts to the member: at least ``close`` and at least ``rise`` above the open-eye
    baseline (some faces read 0.25 with eyes open), so at least two open frames must come first. A blink the
    eyelid geometry rejects (``lids``) is not counted; the member may blink again until the time limit.
    """

    code = LIVENESS_BLINK

    def __init__(self, cfg: SessionConfig, t0: float, lids: EyelidDeformation | None = None) -> None:
        self.cfg = cfg
        self.lids = lids
        self.result = ChallengeResult("blink", started=t0)
        self._open_scores: list[float] = []
        self._closed_at: float | None = None
        self._peak = 0.0
        self.rejected = 0

    @property
    def acting(self) -> bool:
        """True while the eyes are closed (a blink is under way)."""
        return self._closed_at is not None

    def interrupt(self) -> None:
        """A frame that failed the gate: a blink under way no longer counts."""
        self._closed_at = None

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.result.outcome != RUNNING:
            return self.result.outcome
        if t - self.result.started > self.cfg.challenge_time_s:
            why = "no blink within the time limit"
            if self.rejected and self.lids is not None and self.lids.last:
                why = f"blink not like a real one: {self.lids.last.get('why')}"
            return self._end(FAILED, t, why)
        if face is None or not face.blendshapes:
            return RUNNING
        score = min(face.blendshapes.get("eyeBlinkLeft", 0.0), face.blendshapes.get("eyeBlinkRight", 0.0))
        self._peak = max(self._peak, score)
        baseline = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        if self._closed_at is None:
            if (
                baseline is not None
                and len(self._open_scores) >= 2
                and score >= max(self.cfg.blink_close, baseline + self.cfg.blink_rise)
            ):
                if t - self.result.started >= self.cfg.response_min_s:  # earlier is not an answer to the prompt
                    self._closed_at = t
            elif baseline is None or score < baseline + self.cfg.blink_rise:
                self._open_scores.append(score)
            return RUNNING
        assert baseline is not None
        if score <= baseline + self.cfg.blink_open_margin:
            closed_at, self._closed_at = self._closed_at, None
            if t - closed_at > self.cfg.blink_max_closed_s:
                return RUNNING  # eyes were shut too long to be a blink: wait for a real one
            if self.lids is not None and not self.lids.signature(closed_at, t):
                self.rejected += 1
                return RUNNING
            self.result.detail["closed_s"] = round(t - closed_at, 3)
            return self._end(PASSED, t, None)
        return RUNNING

    def _end(self, outcome: str, t: float, reason: str | None) -> str:
        self.result.outcome, self.result.ended = outcome, t
        base = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        self.result.detail.update(
            {
                "baseline": None if base is None else round(base, 3),
                "peak": round(self._peak, 3),
                "rejected_blinks": self.rejected,
            }
        )
        if self.lids is not None and self.lids.last is not None:
            self.result.detail["signature"] = dict(self.lids.last)
        if reason:
            self.result.detail["reason"] = reason
        return outcome


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


def challenge_plan(cfg: SessionConfig, rng: random.Random | None = None) -> list[str]:
    """The challenge sequence: ``blink`` n times and, when enabled, one ``left``/``right`` turn, in random order."""
    rng = rng or (random.Random(cfg.seed) if cfg.seed is not None else secrets.SystemRandom())
    plan = ["blink"] * rng.randint(cfg.blinks_min, max(cfg.blinks_min, cfg.blinks_max))
    if cfg.head_turn:
        plan.insert(rng.randint(0, len(plan)), rng.choice(("left", "right")))
    return plan


class LivenessCheck:
    """Runs the planned challenges one after the other, with the eyelid geometry alongside."""

    def __init__(self, cfg: SessionConfig, t0: float, plan: list[str] | None = None, mirrored: bool = False) -> None:
        self.cfg = cfg
        self.t0 = t0
        self.plan = plan if plan is not None else challenge_plan(cfg)
        self._mirrored = mirrored
        self.passive = EyelidDeformation(cfg.passive_min_deformation, cfg.blink_min_partial) if cfg.passive else None
        self.challenges: list[BlinkChallenge | TurnChallenge] = [self._make(self.plan[0], t0)]
        self.outcome = RUNNING
        self.reason: str | None = None
        self.ended: float | None = None

    def _make(self, kind: str, t: float) -> BlinkChallenge | TurnChallenge:
        if kind == "blink":
            return BlinkChallenge(self.cfg, t, self.passive)
        return TurnChallenge(self.cfg, t, kind, self._mirrored)

    @property
    def instruction(self) -> str:
        """The code of the challenge now running (the prompt shown to the member)."""
        return self.challenges[-1].code

    @property
    def allowed_failures(self) -> frozenset[str]:
        """Gate codes the current action itself causes (a frame failing anything else does not count)."""
        return BLINK_ALLOWED if isinstance(self.challenges[-1], BlinkChallenge) else TURN_ALLOWED

    @property
    def acting(self) -> bool:
        """True while the current action (eyes closed, head turning) is under way."""
        return self.challenges[-1].acting

    def interrupt(self) -> None:
        """A frame failed the gate beyond what the action itself causes: the action under way does not count."""
        self.challenges[-1].interrupt()

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.outcome != RUNNING:
            return self.outcome
        if self.passive is not None:
            self.passive.update(face, t)
        current = self.challenges[-1]
        status = current.update(face, t)
        if status == FAILED:
            return self._end(FAILED, t, current.result.detail.get("reason", current.result.kind))
        if status == PASSED:
            if len(self.challenges) < len(self.plan):
                self.challenges.append(self._make(self.plan[len(self.challenges)], t))
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
            "duration_s": None if self.ended is None else round(self.ended - self.t0, 3),
            "challenges": [c.result.to_dict() for c in self.challenges],
            "passive": self.passive.to_dict() if self.passive is not None else None,
        }
