"""The PAD crop: a stable face box from the landmarks, expanded as upstream's ``generate_patches`` does.

MiniFASNet scores depend strongly on the box (PROVENANCE.md: a +-10-15 % jittered box moved one live frame
from 0.28 to 0.97), so the box is derived from the landmark mesh, not from a detector, and smoothed over the
session by ``StableBox``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation

Box = tuple[float, float, float, float]  # x, y, w, h in pixels

# The mesh's bounding box runs from the forehead top (10) to the chin (152) and cheek to cheek; upstream's
# face detector box (an SSD) starts lower on the forehead. These ratios map the landmark box to it.
_TOP_TRIM = 0.12


def landmark_box(face: FaceObservation) -> Box:
    """The face box (x, y, w, h) derived from the landmark mesh, shaped like a detector's box."""
    pts = np.asarray(face.landmarks[:, :2], dtype=np.float32)
    x0, y0 = float(pts[:, 0].min()), float(pts[:, 1].min())
    x1, y1 = float(pts[:, 0].max()), float(pts[:, 1].max())
    h = y1 - y0
    y0 += _TOP_TRIM * h
    return x0, y0, x1 - x0, y1 - y0


class StableBox:
    """Median of the last ``n`` landmark boxes: removes the frame-to-frame jitter the PAD model is sensitive to."""

    def __init__(self, n: int = 5) -> None:
        self._boxes: deque[Box] = deque(maxlen=n)

    def update(self, face: FaceObservation) -> Box:
        """Add this frame's landmark box; return the smoothed box."""
        self._boxes.append(landmark_box(face))
        arr = np.asarray(self._boxes, dtype=np.float64)
        med = np.median(arr, axis=0)
        return float(med[0]), float(med[1]), float(med[2]), float(med[3])

    def reset(self) -> None:
        """Forget the history (a new face)."""
        self._boxes.clear()


def scaled_box(box: Box, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Upstream's patch box: ``box`` scaled about its centre by ``scale`` (reduced to fit), shifted inside the image.

    Returns integer (x0, y0, x1, y1), inclusive corners as upstream uses them.
    """
    x, y, w, h = box
    w, h = max(w, 1.0), max(h, 1.0)
    scale = min((height - 1) / h, (width - 1) / w, scale)
    nw, nh = w * scale, h * scale
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = cx - nw / 2, cy - nh / 2
    x1, y1 = cx + nw / 2, cy + nh / 2
    if x0 < 0:
        x1 -= x0
        x0 = 0
    if y0 < 0:
        y1 -= y0
        y0 = 0
    if x1 > width - 1:
        x0 -= x1 - width + 1
        x1 = width - 1
    if y1 > height - 1:
        y0 -= y1 - height + 1
        y1 = height - 1
    return int(x0), int(y0), int(x1), int(y1)


def pad_patch(image: np.ndarray, box: Box, scale: float, size: int = 80) -> np.ndarray:
    """The ``size`` x ``size`` uint8 patch the model expects (upstream ``CropImage.crop``), colour order kept."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = scaled_box(box, scale, w, h)
    patch = image[y0 : y1 + 1, x0 : x1 + 1]
    return cv2.resize(patch, (size, size))
