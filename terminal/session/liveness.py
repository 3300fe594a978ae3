"""Liveness: an active blink (and optional head-turn) challenge plus a passive eyelid-deformation signal.

Everything runs on frame time and on the landmarker's per-frame output (blendshapes, landmarks, yaw); no
image is kept. What this does and does not stop is written down in docs/session.md.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from terminal.analysis.codes import LIVENESS_BLINK, LIVENESS_TURN_LEFT, LIVENESS_TURN_RIGHT

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.session.settings import SessionConfig

log = logging.getLogger(__name__)

RUNNING, PASSED, FAILED = "running", "passed", "failed"

# Landmarks of the 478-point mesh that do not move with expression: face oval and nose ridge. A homography
# fitted on them removes whatever rigid or planar (perspective) motion the head - or a photo - makes.
RIGID_POINTS = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
                148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
                1, 4, 5, 6, 168, 197, 195)
# Upper/lower eyelid pairs of both eyes; their gap shrinks when the eyes close.
LID_PAIRS = ((159, 145), (158, 153), (160, 144), (386, 374), (385, 380), (387, 373))


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
        return {"kind": self.kind, "outcome": self.outcome,
                "duration_s": None if self.ended is None else round(self.ended - self.started, 3), **self.detail}


class BlinkChallenge:
    """Passes when both eyes close and open again (blendshapes eyeBlinkLeft/Right) within the time limit.

    The closed threshold adapts to the member: it is at least ``close`` and at least ``rise`` above the
    open-eye baseline (some faces read 0.25 with eyes open), so at least two open frames must come first.
    """

    code = LIVENESS_BLINK

    def __init__(self, cfg: SessionConfig, t0: float) -> None:
        self.cfg = cfg
        self.result = ChallengeResult("blink", started=t0)
        self._open_scores: list[float] = []
        self._closed_at: float | None = None
        self._peak = 0.0

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.result.outcome != RUNNING:
            return self.result.outcome
        if t - self.result.started > self.cfg.challenge_time_s:
            return self._end(FAILED, t, "no blink within the time limit")
        if face is None or not face.blendshapes:
            return RUNNING
        score = min(face.blendshapes.get("eyeBlinkLeft", 0.0), face.blendshapes.get("eyeBlinkRight", 0.0))
        self._peak = max(self._peak, score)
        baseline = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        if self._closed_at is None:
            if baseline is not None and len(self._open_scores) >= 2 and \
                    score >= max(self.cfg.blink_close, baseline + self.cfg.blink_rise):
                self._closed_at = t
            elif baseline is None or score < baseline + self.cfg.blink_rise:
                self._open_scores.append(score)
            return RUNNING
        assert baseline is not None
        if score <= baseline + self.cfg.blink_open_margin:
            closed_for = t - self._closed_at
            if closed_for <= self.cfg.blink_max_closed_s:
                self.result.detail["closed_s"] = round(closed_for, 3)
                return self._end(PASSED, t, None)
            self._closed_at = None  # eyes were shut too long to be a blink: wait for a real one
        return RUNNING

    def _end(self, outcome: str, t: float, reason: str | None) -> str:
        self.result.outcome, self.result.ended = outcome, t
        base = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        self.result.detail.update({"baseline": None if base is None else round(base, 3), "peak": round(self._peak, 3)})
        if reason:
            self.result.detail["reason"] = reason
        return outcome


class TurnChallenge:
    """Passes when the head turns ``min_deg`` of yaw to the asked side (the member's left or right).

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
        self._best = 0.0

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.result.outcome != RUNNING:
            return self.result.outcome
        if t - self.result.started > self.cfg.challenge_time_s:
            self.result.detail.update({"reason": "no head turn within the time limit", "turn_deg": round(self._best, 1)})
            self.result.outcome, self.result.ended = FAILED, t
            return FAILED
        if face is None:
            return RUNNING
        if len(self._start_yaw) < 3:
            self._start_yaw.append(face.yaw)
            return RUNNING
        turned = self._sign * (face.yaw - float(np.median(self._start_yaw)))
        self._best = max(self._best, turned)
        if turned >= self.cfg.turn_min_deg:
            self.result.detail["turn_deg"] = round(turned, 1)
            self.result.outcome, self.result.ended = PASSED, t
            return PASSED
        return RUNNING


class EyelidDeformation:
    """Passive signal: do the eyelids really move relative to the rest of the face?

    A photo or a still on a screen moves as one plane, so after a homography fitted on the rigid points
    (face oval, nose) the eyelid gap stays constant up to landmark jitter (measured: at most 4 % on swaying
    Yale photos). A real blink shrinks it by 60-95 %. The score is the largest relative shrink seen.
    """

    def __init__(self, min_deformation: float) -> None:
        self.min_deformation = min_deformation
        self._ref: np.ndarray | None = None
        self._gaps: list[float] = []

    def update(self, face: FaceObservation | None) -> None:
        """Add one frame's eyelid gap (in the reference frame's geometry)."""
        if face is None or face.landmarks.shape[0] < 468:
            return
        pts = np.asarray(face.landmarks[:, :2], dtype=np.float32)
        if self._ref is None:
            self._ref = pts.copy()
        rigid = list(RIGID_POINTS)
        h, _ = cv2.findHomography(pts[rigid], self._ref[rigid], 0)
        if h is None:
            return
        warped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), h).reshape(-1, 2)
        scale = float(np.linalg.norm(self._ref[33] - self._ref[263])) or 1.0  # outer eye corners
        gap = float(np.mean([np.linalg.norm(warped[a] - warped[b]) for a, b in LID_PAIRS])) / scale
        self._gaps.append(gap)

    @property
    def score(self) -> float:
        """Largest relative shrink of the eyelid gap against its median (0 = rigid)."""
        if len(self._gaps) < 3:
            return 0.0
        med = float(np.median(self._gaps))
        return 0.0 if med <= 0 else max(0.0, (med - min(self._gaps)) / med)

    @property
    def passed(self) -> bool:
        """True when the deformation reaches the threshold."""
        return self.score >= self.min_deformation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"signal": "eyelid_deformation", "score": round(self.score, 3),
                "threshold": self.min_deformation, "frames": len(self._gaps), "passed": self.passed}


class LivenessCheck:
    """Runs the challenges in order (blink, then an optional random turn) and the passive signal alongside."""

    def __init__(self, cfg: SessionConfig, t0: float, seed: int, mirrored: bool = False) -> None:
        self.cfg = cfg
        self.t0 = t0
        self.challenges: list[BlinkChallenge | TurnChallenge] = [BlinkChallenge(cfg, t0)]
        self._turn: str | None = random.Random(seed).choice(("left", "right")) if cfg.head_turn else None
        self._mirrored = mirrored
        self.passive = EyelidDeformation(cfg.passive_min_deformation) if cfg.passive else None
        self.outcome = RUNNING
        self.reason: str | None = None
        self.ended: float | None = None

    @property
    def instruction(self) -> str:
        """The code of the challenge now running."""
        return self.challenges[-1].code

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed or failed."""
        if self.outcome != RUNNING:
            return self.outcome
        if self.passive is not None:
            self.passive.update(face)
        current = self.challenges[-1]
        status = current.update(face, t)
        if status == FAILED:
            return self._end(FAILED, t, current.result.detail.get("reason", current.result.kind))
        if status == PASSED:
            if isinstance(current, BlinkChallenge) and self.passive is not None and not self.passive.passed:
                return self._end(FAILED, t, "eyelids did not move against the face (rigid, photo-like motion)")
            if isinstance(current, BlinkChallenge) and self._turn is not None:
                self.challenges.append(TurnChallenge(self.cfg, t, self._turn, self._mirrored))
                return RUNNING
            return self._end(PASSED, t, None)
        return RUNNING

    def _end(self, outcome: str, t: float, reason: str | None) -> str:
        self.outcome, self.reason, self.ended = outcome, reason, t
        log.info("liveness %s after %.2f s%s", outcome, t - self.t0, f": {reason}" if reason else "")
        return outcome

    def to_dict(self) -> dict[str, Any]:
        """The liveness part of the result record."""
        return {"enabled": True, "outcome": self.outcome if self.outcome != RUNNING else "not_finished",
                "reason": self.reason,
                "duration_s": None if self.ended is None else round(self.ended - self.t0, 3),
                "challenges": [c.result.to_dict() for c in self.challenges],
                "passive": self.passive.to_dict() if self.passive is not None else None}
