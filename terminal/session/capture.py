"""Capture: the steady run of passing frames and the best few of them by quality score (in memory only)."""

from __future__ import annotations

import heapq
import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation

log = logging.getLogger(__name__)


@dataclass(order=True)
class Candidate:
    """One passing frame kept for matching; ordered by quality (ties: the earlier frame wins)."""

    quality: float
    order: int
    t: float = field(compare=False)
    image: np.ndarray = field(compare=False, repr=False)
    face: FaceObservation = field(compare=False, repr=False)


class BestFrames:
    """Keeps the ``k`` best passing frames by quality score; never written anywhere."""

    def __init__(self, k: int) -> None:
        self.k = k
        self._heap: list[Candidate] = []
        self._count = itertools.count()
        self.seen = 0

    def offer(self, quality: float, t: float, image: np.ndarray, face: FaceObservation) -> bool:
        """Consider a passing frame; True if it is kept among the best k."""
        self.seen += 1
        # -order so that among equal qualities the earliest frame stays (heap evicts the smallest).
        cand = Candidate(quality, -next(self._count), t, image, face)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, cand)
            return True
        if cand > self._heap[0]:
            heapq.heapreplace(self._heap, cand)
            return True
        return False

    def best(self) -> list[Candidate]:
        """The kept frames, best first."""
        return sorted(self._heap, reverse=True)

    def clear(self) -> None:
        """Drop every kept frame (the face was lost: the next frames may be someone else)."""
        self._heap.clear()
        self.seen = 0

    def __len__(self) -> int:
        return len(self._heap)


class SteadyRun:
    """Counts consecutive passing frames; the face is steady once the run reaches ``need``."""

    def __init__(self, need: int) -> None:
        self.need = need
        self.run = 0

    def update(self, passed: bool) -> bool:
        """Feed one frame's gate result; True while the run is long enough."""
        self.run = self.run + 1 if passed else 0
        return self.run >= self.need

    def reset(self) -> None:
        """Start counting again."""
        self.run = 0
