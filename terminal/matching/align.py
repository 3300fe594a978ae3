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
        raise AlignmentError(f"need the 478-point MediaPipe landmarks (with irises) in pixels, got shape {pts.shape}")
    return pts[list(FIVE_POINT_INDICES), :2].copy()


def template_for(size: int) -> np.ndarray:
    """The ArcFace template scaled to a ``size`` x ``size`` crop."""
    return ARCFACE_112 * (float(size) / 112.0)


def similarity_lsq(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 similarity transform taking ``src`` to ``dst`` (closed form, no reflection).

    In 2-D the similarity [[a, -b], [b, a]] + t minimising the squared error has a closed form (the 2-D case of
    Umeyama 1991): a and b are the normalised dot and cross products of the centred point sets. No SVD and no
    sampling, which makes it about ten times cheaper than cv2.estimateAffinePartial2D(LMEDS) at equal accuracy
    (docs/matching.md).
    """
    # Plain floats: for five points numpy's per-call overhead costs more than the arithmetic.
    sp = np.asarray(src, dtype=np.float64).tolist()
    dp = np.asarray(dst, dtype=np.float64).tolist()
    n = len(sp)
    msx = sum(p[0] for p in sp) / n
    msy = sum(p[1] for p in sp) / n
    mdx = sum(p[0] for p in dp) / n
    mdy = sum(p[1] for p in dp) / n
    var = dot = cross = 0.0
    for (sx, sy), (dx, dy) in zip(sp, dp, strict=True):
        sx, sy, dx, dy = sx - msx, sy - msy, dx - mdx, dy - mdy
        var += sx * sx + sy * sy
        dot += sx * dx + sy * dy
        cross += sx * dy - sy * dx
    if var < 1e-9:
        raise AlignmentError("the five face points are degenerate (they coincide)")
    a, b = dot / var, cross / var
    tx = mdx - (a * msx - b * msy)
    ty = mdy - (b * msx + a * msy)
    return np.array([[a, -b, tx], [b, a, ty]], dtype=np.float64)


def similarity_matrix(src: np.ndarray, dst: np.ndarray, method: str = "lsq") -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, translation) taking ``src`` points to ``dst``."""
    if method == "lsq":
        m: np.ndarray | None = similarity_lsq(src, dst)  # the default: see similarity_lsq
    else:
        # LMEDS: with five points and no threshold to tune it is robust to one bad point (a mouth corner under
        # a hand) and deterministic (OpenCV seeds its sampler).
        m, _inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if m is None or not np.isfinite(m).all() or not m[:, :2].any():
        raise AlignmentError("the five face points are degenerate (no similarity transform fits them)")
    return np.asarray(m, dtype=np.float64)


def align_face(image_rgb: np.ndarray, landmarks_px: np.ndarray, size: int = 112, method: str = "lsq") -> np.ndarray:
    """Warp the face to the ArcFace template: a ``size`` x ``size`` x 3 uint8 crop in the input's colour order."""
    src = five_points(landmarks_px)
    m = similarity_matrix(src, template_for(size), method)
    # BORDER_REPLICATE rather than black: faces near the frame edge would otherwise get a hard black edge that
    # the embedder was never trained on.
    crop = cv2.warpAffine(image_rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)  # after the warp: 112x112 pixels, not the whole frame
    return np.ascontiguousarray(crop, dtype=np.uint8)
