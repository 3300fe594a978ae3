"""Parts of the session result: the quality tally, frame-time milestones and the member-facing text."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from terminal.analysis.guidance import message

log = logging.getLogger(__name__)

# Plain-language phrases for the dominant-reason summary of a timeout ("72% of frames too dark").
PHRASES = {
    "NO_FACE": "no face in view",
    "MULTIPLE_FACES": "more than one face",
    "FACE_TOO_CLOSE": "face too close",
    "FACE_TOO_SMALL": "face too far",
    "FACE_OFF_CENTER": "face off centre",
    "POSE_YAW": "head turned",
    "POSE_PITCH": "head tilted up or down",
    "POSE_ROLL": "head tilted sideways",
    "OCCLUDED_GLASSES": "glasses frame over the eyes",
    "DARK_GLASSES": "dark glasses",
    "GLARE_ON_GLASSES": "glare on glasses",
    "OCCLUDED_FACE": "face covered",
    "EYES_CLOSED": "eyes closed",
    "TOO_DARK": "too dark",
    "TOO_BRIGHT": "too bright",
    "UNEVEN_LIGHT": "uneven light",
    "BLURRY": "blurry",
    "UNSTEADY": "moving",
}


class QualityTally:
    """Counts, over the session, how often each gate code failed and how many frames passed."""

    def __init__(self) -> None:
        self.frames = 0
        self.face_frames = 0
        self.passed = 0
        self.counts: Counter[str] = Counter()
        self.best = 0.0
        self._quality_sum = 0.0

    def add(self, failures: list[str], passed: bool, n_faces: int, quality: float) -> None:
        """Count one frame's verdict."""
        self.frames += 1
        self.face_frames += n_faces > 0
        self.passed += passed
        self.counts.update(failures)
        self._quality_sum += quality
        self.best = max(self.best, quality)

    def dominant(self, top: int = 3) -> list[dict[str, Any]]:
        """The most frequent failure codes with their share of frames, most frequent first."""
        if not self.frames:
            return []
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return [{"code": c, "share": round(n / self.frames, 3)} for c, n in ranked]

    def summary(self, light_at_max: bool = False) -> str:
        """A one-line reason such as ``72% of frames too dark, light at maximum``."""
        dom = self.dominant(2)
        if not dom:
            return "no frames" if not self.frames else "no failing check"
        parts = [f"{round(100 * d['share'])}% of frames {PHRASES.get(d['code'], d['code'].lower())}" for d in dom]
        if light_at_max:
            parts.append("light at maximum")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The ``quality`` part of the result."""
        return {
            "frames": self.frames,
            "face_frames": self.face_frames,
            "passed_frames": self.passed,
            "counts": dict(sorted(self.counts.items())),
            "dominant": self.dominant(),
            "mean_quality": round(self._quality_sum / self.frames, 4) if self.frames else None,
            "best_quality": round(self.best, 4) if self.frames else None,
        }


@dataclass
class Timings:
    """Frame-time milestones of a session, in seconds since its first frame (None: never reached)."""

    start: float | None = None
    first_face: float | None = None
    light_converged: float | None = None
    first_pass: float | None = None
    liveness_done: float | None = None
    decision: float | None = None
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, t: float) -> None:
        """Set milestone ``name`` to frame time ``t`` the first time only."""
        if getattr(self, name) is None:
            setattr(self, name, t)

    def _rel(self, t: float | None) -> float | None:
        return None if t is None or self.start is None else round(t - self.start, 3)

    def to_dict(self) -> dict[str, Any]:
        """The ``timings`` part of the result."""
        after_face = None
        if self.decision is not None and self.first_face is not None:
            after_face = round(self.decision - self.first_face, 3)
        return {
            "first_face_s": self._rel(self.first_face),
            "light_converged_s": self._rel(self.light_converged),
            "first_pass_s": self._rel(self.first_pass),
            "liveness_s": self._rel(self.liveness_done),
            "decision_s": self._rel(self.decision),
            "decision_after_face_s": after_face,
        }


def guidance_text(code: str | None, languages: tuple[str, ...]) -> dict[str, str] | None:
    """The member-facing text of a result code in each language."""
    return None if code is None else {lang: message(code, lang) for lang in languages}
