"""UNSTEADY: landmark motion over a short window of frame time, relative to the inter-eye distance."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np

from terminal.analysis.landmarker import FaceObservation

# Eye corners, nose bridge and nose tip: they move with the head, not with speech or a smile.
STABLE = [33, 133, 362, 263, 168, 6, 1]


class SteadinessTracker:
    """Keeps the last ``window_s`` seconds of stable landmarks and reports their speed in IED per second.

    The speed is the median over the window of the frame-to-frame mean displacement divided by the time step,
    so a single detection glitch does not fail the check and the figure does not depend on the frame rate.
    """

    def __init__(self, window_s: float = 0.5) -> None:
        self.window_s = window_s
        self._hist: deque[tuple[float, np.ndarray, float]] = deque()

    def reset(self) -> None:
        """Forget the history (a new member, or the face was lost)."""
        self._hist.clear()

    def update(self, timestamp_s: float, face: FaceObservation) -> float | None:
        """Add one frame; the speed over the window, or None until the window holds at least 3 frames."""
        if self._hist and timestamp_s <= self._hist[-1][0]:
            self.reset()  # time went backwards (a replay looped): start over rather than divide by <= 0
        self._hist.append((timestamp_s, face.landmarks[STABLE, :2].copy(), max(face.inter_eye_px, 1e-3)))
        while self._hist and timestamp_s - self._hist[0][0] > self.window_s:
            self._hist.popleft()
        if len(self._hist) < 3:
            return None
        speeds = []
        items = list(self._hist)
        for (t0, p0, d0), (t1, p1, d1) in itertools.pairwise(items):
            disp = float(np.linalg.norm(p1 - p0, axis=1).mean())
            speeds.append(disp / ((d0 + d1) / 2.0) / (t1 - t0))
        return float(np.median(speeds))
