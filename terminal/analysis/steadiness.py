"""UNSTEADY: landmark motion over a short window of frame time, relative to the inter-eye distance."""

from __future__ import annotations

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
        self._hist: deque[tuple[float, float]] = deque()  # (time, speed since the previous frame)
        self._last: tuple[float, np.ndarray, float] | None = None

    def reset(self) -> None:
        """Forget the history (a new member, or the face was lost)."""
        self._hist.clear()
        self._last = None

    def update(self, timestamp_s: float, face: FaceObservation) -> float | None:
        """Add one frame; the speed over the window, or None until the window holds at least 2 speeds."""
        pts = face.landmarks[STABLE, :2].copy()
        ied = max(face.inter_eye_px, 1e-3)
        last = self._last
        if last is not None and timestamp_s <= last[0]:
            self.reset()  # time went backwards (a replay looped): start over rather than divide by <= 0
            last = None
        self._last = (timestamp_s, pts, ied)
        if last is not None:
            t0, p0, d0 = last
            disp = float(np.sqrt(((pts - p0) ** 2).sum(axis=1)).mean())
            self._hist.append((timestamp_s, disp / ((d0 + ied) / 2.0) / (timestamp_s - t0)))
        while self._hist and timestamp_s - self._hist[0][0] > self.window_s:
            self._hist.popleft()
        if len(self._hist) < 2:
            return None
        return float(np.median([speed for _, speed in self._hist]))
