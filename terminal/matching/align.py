"""Five-point face alignment: landmarker points to the ArcFace 112x112 template by a similarity transform."""

from __future__ import annotations

import logging

import cv2
import numpy as np

from terminal.errors import TerminalError

log = logging.getLogger(__name__)

# MediaPipe Face Mesh indices (478-point model with irises): the subject's right iris centre (image left),
# left iris centre (image right), nose tip, mouth corner on image left, mouth corner on image right.
FIVE_POINT_INDICES = (468, 473, 1, 61, 291)

# The standard ArcFace template for a 112x112 crop, in the same order (image-left eye first).
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


class AlignmentError(TerminalError):
    """The landmarks cannot be mapped to the template (too few points or a degenerate geometry)."""

    code = "ALIGNMENT_FAILED"


def five_points(landmarks_px: np.ndarray) -> np.ndarray:
    """The five alignment points (eye centres, nose tip, mouth corners) as a (5, 2) float32 array in pixels."""
    pts = np.asarray(landmarks_px, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[0] <= max(FIVE_POINT_INDICES) or pts.shape[1] < 2:
        raise AlignmentError(
            f"need the 478-point MediaPipe landmarks (with irises) in pixels, got shape {pts.shape}"
        )
    return pts[list(FIVE_POINT_INDICES), :2].copy()


def template_for(size: int) -> np.ndarray:
    """The ArcFace template scaled to a ``size`` x ``size`` crop."""
    return ARCFACE_112 * (float(size) / 112.0)


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, translation) taking ``src`` points to ``dst``."""
    # LMEDS rather than RANSAC: with five points and no threshold to tune it is robust to one bad point
    # (a mouth corner under a hand) and deterministic.
    m, _inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None or not np.all(np.isfinite(m)):
        raise AlignmentError("the five face points are degenerate (no similarity transform fits them)")
    return np.asarray(m, dtype=np.float64)


def align_face(image_rgb: np.ndarray, landmarks_px: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp the face to the ArcFace template: a ``size`` x ``size`` x 3 uint8 crop in the input's colour order."""
    if image_rgb.ndim == 2:
        image_rgb = cv2.cvtColor(image_rgb, cv2.COLOR_GRAY2RGB)
    src = five_points(landmarks_px)
    m = similarity_matrix(src, template_for(size))
    # BORDER_REPLICATE rather than black: faces near the frame edge would otherwise get a hard black edge that
    # the embedder was never trained on.
    crop = cv2.warpAffine(image_rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(crop, dtype=np.uint8)
