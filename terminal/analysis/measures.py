"""The measurements behind each check, on the landmarks and the canonical face crop (cheap, no full frame)."""

from __future__ import annotations

import cv2
import numpy as np

from terminal.analysis.faceregion import IED, FaceCrop, face_mask, half_masks
from terminal.analysis.landmarker import FaceObservation

# Eyelid and corner landmarks (upper lid, lower lid, outer corner, inner corner) for each eye.
EYE_LIDS = {"right": (159, 145, 33, 133), "left": (386, 374, 263, 362)}
UNDER_LUMA = 30  # luma at or below which a face pixel counts as under-exposed (OFIQ's under-exposure idea)
OVER_LUMA = 250  # luma at or above which a face pixel counts as clipped


def eye_openness(face: FaceObservation) -> tuple[float, float]:
    """Lid gap / eye width of the subject's (right, left) eye, from the mesh (about 0.3 open, < 0.15 closed)."""
    pts = face.landmarks
    out = []
    for up, lo, c0, c1 in EYE_LIDS.values():
        gap = float(np.hypot(*(pts[up, :2] - pts[lo, :2])))
        width = float(np.hypot(*(pts[c0, :2] - pts[c1, :2])))
        out.append(gap / max(width, 1e-3))
    return out[0], out[1]


def luminance_stats(crop: FaceCrop) -> tuple[float, float, float]:
    """Mean face luma and the under- and over-exposed shares inside the face ellipse."""
    face = crop.grey[face_mask()]
    return float(face.mean()), float((face <= UNDER_LUMA).mean()), float((face >= OVER_LUMA).mean())


def light_balance(crop: FaceCrop) -> float:
    """Mean luma of the darker face half over the brighter half: 1 is even light, near 0 is half-lit."""
    left_mask, right_mask = half_masks()
    left = float(crop.grey[left_mask].mean())
    right = float(crop.grey[right_mask].mean())
    # +8 keeps a dark but evenly lit face (both halves near 0) from reading as uneven.
    return (min(left, right) + 8.0) / (max(left, right) + 8.0)


def sharpness(crop: FaceCrop) -> float:
    """Contrast-normalised high-frequency energy of the face at the canonical scale (resolution-independent)."""
    grey = crop.grey
    lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=1)
    mask = face_mask()
    contrast = float(grey[mask].std()) + 4.0
    return float(np.abs(lap[mask]).mean()) / contrast


def glasses_score(crop: FaceCrop) -> float:
    """How much the eye band looks covered by a frame or dark lenses (0 none .. >1 clearly)."""
    eyes = np.concatenate([crop.region("eye_l").ravel(), crop.region("eye_r").ravel()]).astype(np.float32)
    cheeks = np.concatenate([crop.region("cheek_l").ravel(), crop.region("cheek_r").ravel()]).astype(np.float32)
    dark = max(0.0, 1.0 - (float(eyes.mean()) + 8.0) / (float(cheeks.mean()) + 8.0))
    bridge = crop.region("bridge").astype(np.float32)
    gy = np.abs(np.diff(bridge, axis=0)).mean()
    contrast = float(crop.grey[face_mask()].std()) + 4.0
    return max(dark / 0.6, float(gy) / contrast)


def occlusion_score(crop: FaceCrop) -> float:
    """How different the lower face looks from the upper face's skin (mask, hand): chroma when colour."""
    upper = np.concatenate([crop.region_rgb("forehead").reshape(-1, 3), crop.region_rgb("cheek_l").reshape(-1, 3)[:0]])
    lower = np.concatenate([crop.region_rgb("mouth").reshape(-1, 3), crop.region_rgb("chin").reshape(-1, 3)])
    if not crop.is_colour:
        return 0.0
    yu = cv2.cvtColor(upper[None], cv2.COLOR_RGB2YCrCb)[0].astype(np.float32).mean(axis=0)
    yl = cv2.cvtColor(lower[None], cv2.COLOR_RGB2YCrCb)[0].astype(np.float32).mean(axis=0)
    return float(np.hypot(yu[1] - yl[1], yu[2] - yl[2])) / 12.0


def stable_points(face: FaceObservation) -> np.ndarray:
    """Landmarks that move with the head, not with expression (eye corners, nose bridge and tip), in IED units."""
    return face.landmarks[[33, 133, 362, 263, 168, 6, 1], :2] / max(face.inter_eye_px, 1e-3)


__all__ = ["IED", "eye_openness", "glasses_score", "light_balance", "luminance_stats", "occlusion_score",
           "sharpness", "stable_points"]
