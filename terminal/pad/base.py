"""The PAD backend interface and the multi-frame fusion a session uses.

A backend scores one frame given a stable face box: any frame source will do, so an infrared camera (a NoIR
module with an IR LED on the light's second channel) can become a backend that reads its own frame of the
same instant (docs/liveness.md, "Infrared").
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from statistics import median
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.pad.crop import Box, StableBox

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation

log = logging.getLogger(__name__)


class PadBackend(ABC):
    """Scores how live one face looks: 1.0 = certainly a live face, 0.0 = certainly an attack."""

    name: str

    @abstractmethod
    def score(self, image_rgb: np.ndarray, box: Box) -> float:
        """The live probability of the face in ``box`` (x, y, w, h) of ``image_rgb`` (RGB uint8)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (interpreters, a second camera)."""


class PadFusion:
    """Scores up to ``frames`` gate-passing frames of one tracked face (one in ``every``) and fuses them (mean)."""

    def __init__(
        self,
        backend: PadBackend,
        threshold: float,
        frames: int = 6,
        every: int = 3,
        min_sharpness: float = 0.0,
        soft_view: tuple[float, float] | None = None,
    ) -> None:
        """``soft_view`` = (sharpness, threshold): when the scored frames' median sharpness is below that
        sharpness, the fused score must also reach that (stricter) threshold."""
        self.backend = backend
        self.threshold = threshold
        self.max_frames = frames
        self.every = max(1, every)
        self.min_sharpness = min_sharpness
        self.soft_view = soft_view
        self.scores: list[float] = []
        self.sharpness: list[float] = []  # of the scored frames, where known
        self.soft = 0  # gate-passing frames too soft to score
        self._box = StableBox()
        self._offered = 0

    def offer(self, image_rgb: np.ndarray, face: FaceObservation, sharpness: float | None = None) -> bool:
        """Consider one gate-passing frame (``sharpness``: the gate's BLURRY value); True if it was scored.

        A frame softer than ``min_sharpness`` is not scored: a screen replay blurred just enough to pass the
        gate's BLURRY check hides the moire and pixel texture the model looks for (a defocused replay of a live
        clip scored 0.975, live). With no sharp frame at all the session is refused, not passed.
        """
        box = self._box.update(face)  # keep the box history even on frames that are not scored
        if sharpness is not None and sharpness < self.min_sharpness:
            self.soft += 1
            return False
        self._offered += 1
        if self.full or (self._offered - 1) % self.every:
            return False
        self.scores.append(float(self.backend.score(image_rgb, box)))
        if sharpness is not None:
            self.sharpness.append(float(sharpness))
        return True

    def reset(self) -> None:
        """A new face: drop the scores and the box history."""
        self.scores.clear()
        self.sharpness.clear()
        self._box.reset()
        self._offered = 0
        self.soft = 0

    @property
    def full(self) -> bool:
        """True once ``frames`` frames were scored."""
        return len(self.scores) >= self.max_frames

    @property
    def score(self) -> float | None:
        """The fused live score (mean over the scored frames), None before any."""
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def soft_scored(self) -> bool:
        """True when the scored frames were mostly soft (median below the soft-view sharpness)."""
        return self.soft_view is not None and bool(self.sharpness) and median(self.sharpness) < self.soft_view[0]

    @property
    def decision_threshold(self) -> float:
        """The threshold the fused score must reach: the calibrated one, stricter for a soft view.

        Defocus blurs away the screen texture the model looks for, so a soft replay scores higher than a sharp
        one (a clip on a screen: 0.33 sharp, 0.93 at sigma 1.6, 0.975 at sigma 2); a live face stays near 1.0.
        """
        if self.soft_scored and self.soft_view is not None:
            return max(self.threshold, self.soft_view[1])
        return self.threshold

    @property
    def passed(self) -> bool:
        """True when at least one frame was scored and the fused score reaches the decision threshold."""
        s = self.score
        return s is not None and s >= self.decision_threshold

    def to_dict(self) -> dict[str, Any]:
        """The ``liveness.pad`` part of the result record: model, score, threshold, frames, passed."""
        s = self.score
        return {
            "model": self.backend.name,
            "score": None if s is None else round(s, 4),
            "threshold": round(self.decision_threshold, 4),
            "frames": len(self.scores),
            "soft_frames": self.soft,
            "soft_view": self.soft_scored,
            "passed": self.passed,
        }
