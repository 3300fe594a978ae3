"""The geometric eyelid signal: each eye's lid gap after removing the face's rigid (or planar) motion.

A photo or a still on a screen moves as one plane, so after a homography fitted on the rigid landmarks (face
oval, nose ridge) its eyelid gaps stay constant up to landmark jitter; a real blink shrinks both eyes' gaps.
``signature`` judges one blink the blendshapes reported: both eyes must close (each gap shrinks by at least
``min_deformation``) and the lids must *reopen* through partly-open frames. Reopening is the slow half of a real
blink (2-3 times the closing time), so even at 10 fps it shows frames well above the deepest closure and below
fully open; a swapped photo or a pasted eyelid warp sits on a flat plateau and jumps back open in one frame.
Measured on the real clips and the attack set (docs/liveness.md): every real blink had 1-4 such frames, no
attack had one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation

# Landmarks of the 478-point mesh that do not move with expression: face oval and nose ridge.
RIGID_POINTS = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
    1,
    4,
    5,
    6,
    168,
    197,
    195,
)
# Upper/lower eyelid pairs of each eye (image-left eye first).
LID_PAIRS_A = ((159, 145), (158, 153), (160, 144))
LID_PAIRS_B = ((386, 374), (385, 380), (387, 373))
LID_PAIRS = LID_PAIRS_A + LID_PAIRS_B


class EyelidDeformation:
    """Per-frame lid gaps of both eyes in the first frame's geometry; the blink signature check."""

    def __init__(
        self, min_deformation: float, min_partial: int = 1, above_min: float = 0.4, below_open: float = 0.15
    ) -> None:
        self.min_deformation = min_deformation
        self.min_partial = min_partial
        self.above_min = above_min  # a reopening frame is at least this share of the depth above the deepest
        self.below_open = below_open  # ...and at least this share of the depth below fully open
        self._ref: np.ndarray | None = None
        self.samples: list[tuple[float, float, float]] = []  # (t, gap eye A, gap eye B), relative to eye span
        self.last: dict[str, Any] | None = None

    def update(self, face: FaceObservation | None, t: float = 0.0) -> None:
        """Add one frame's lid gaps (after the rigid homography to the reference frame)."""
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

        def gap(pairs: tuple[tuple[int, int], ...]) -> float:
            return float(np.mean([np.linalg.norm(warped[a] - warped[b]) for a, b in pairs])) / scale

        self.samples.append((t, gap(LID_PAIRS_A), gap(LID_PAIRS_B)))

    @property
    def score(self) -> float:
        """Largest relative shrink of the mean lid gap against its median over the session (0 = rigid)."""
        if len(self.samples) < 3:
            return 0.0
        gaps = np.array([(a + b) / 2 for _, a, b in self.samples])
        med = float(np.median(gaps))
        return 0.0 if med <= 0 else max(0.0, (med - float(gaps.min())) / med)

    def signature(self, closed_at: float, t: float, lead_s: float = 0.4) -> bool:
        """Does the blink that closed at ``closed_at`` and reopened at ``t`` look like real lids? Sets ``last``."""
        before = [(a, b) for ts, a, b in self.samples if closed_at - 1.5 <= ts < closed_at - 0.05]
        window = [(a, b) for ts, a, b in self.samples if closed_at - lead_s <= ts <= t]
        if len(window) < 2:
            self.last = {"passed": False, "why": "too few frames"}
            return False
        arr = np.asarray(window)
        base = np.median(np.asarray(before), axis=0) if len(before) >= 2 else arr.max(axis=0)
        rel = arr / np.maximum(base, 1e-6)  # openness of each eye, 1 = as open as before
        shrink = 1.0 - rel.min(axis=0)  # per eye
        both = rel.mean(axis=1)
        deepest = int(np.argmin(both))
        depth = 1.0 - float(both[deepest])
        lo, hi = float(both[deepest]) + self.above_min * depth, 1.0 - self.below_open * depth
        after = both[deepest + 1 :]
        partial = int(np.sum((after > lo) & (after < hi)))
        ok_eyes = bool(np.all(shrink >= self.min_deformation))
        ok = ok_eyes and partial >= self.min_partial
        why = (
            None if ok else ("an eye did not close" if not ok_eyes else "lids jumped back open (no partly open frame)")
        )
        self.last = {
            "passed": ok,
            "shrink": [round(float(x), 3) for x in shrink],
            "partial_frames": partial,
            "why": why,
        }
        return ok

    @property
    def passed(self) -> bool:
        """True when the whole-session shrink reaches the threshold (kept for the record)."""
        return self.score >= self.min_deformation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out = {
            "signal": "eyelid_deformation",
            "score": round(self.score, 3),
            "threshold": self.min_deformation,
            "frames": len(self.samples),
            "passed": self.passed,
        }
        if self.last is not None:
            out["last_blink"] = self.last
        return out
