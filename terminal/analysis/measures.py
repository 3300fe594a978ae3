"""The measurements behind each check, on the landmarks and the canonical face crop (cheap, no full frame)."""

from __future__ import annotations

import cv2
import numpy as np

from terminal.analysis.faceregion import CROP_W, EYE_Y, IED, FaceCrop, face_mask, face_mask_sized, half_masks
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


def clipped_share(crop: FaceCrop, region: str) -> float:
    """Share of a region's pixels at or above the clipping luma (washed-out foreheads 0.73-1.0, others <= 0.07)."""
    return float((crop.region(region) >= OVER_LUMA).mean())


def light_balance(crop: FaceCrop) -> float:
    """Mean luma of the darker face half over the brighter half: 1 is even light, near 0 is half-lit."""
    left_mask, right_mask = half_masks()
    left = float(crop.grey[left_mask].mean())
    right = float(crop.grey[right_mask].mean())
    # +8 keeps a dark but evenly lit face (both halves near 0) from reading as uneven.
    return (min(left, right) + 8.0) / (max(left, right) + 8.0)


# Unit gradient kernels along 0, 90, 45 and 135 degrees.
_DIRECTIONS = (
    np.array([[1, -1]], np.float32),
    np.array([[1], [-1]], np.float32),
    np.array([[1, 0], [0, -1]], np.float32) / np.float32(np.sqrt(2)),
    np.array([[0, 1], [-1, 0]], np.float32) / np.float32(np.sqrt(2)),
)
# px at the canonical scale (IED 32): the re-blurred reference. sigma = 1 looks at the finest detail (eyelashes,
# iris and lid edges), which a small motion blur removes first: 9 px motion blurs on Yale (~5 canonical px) read
# 1.20-1.29 at sigma 2, inside the sharp faces' range, but <= 1.10 at sigma 1, below every sharp face measured.
REFERENCE_SIGMA = 1.0


# The no-face fallback (frame centre, face scale unknown) keeps the coarser sigma-2 reference and its own limit:
# at sigma 1 tight, soft 168x192 Extended Yale B crops that the second look meshes read as low as 1.03.
FRAME_REFERENCE_SIGMA = 2.0
FRAME_MIN_SHARPNESS = 1.2  # frame centres of blurred unmeshable faces <= 1.16, of real faces >= 1.25


def directional_sharpness(grey: np.ndarray, mask: np.ndarray | None = None, sigma: float = REFERENCE_SIGMA) -> float:
    """Fine-gradient energy over that of a re-blurred copy, in the weakest of four directions.

    The re-blur idea (Crete-Roffet et al., 2007): a sharp image loses much of its gradient when blurred again,
    a blurred one little, so the ratio does not depend on contrast or lighting. Taking the weakest direction
    catches motion blur, which removes detail along the motion only. About 1.3 for a sharp face, near 1 blurred.
    """
    g = grey.astype(np.float32)
    ref = cv2.GaussianBlur(g, (0, 0), sigma)
    ratios = []
    for k in _DIRECTIONS:
        fine = np.abs(cv2.filter2D(g, -1, k))
        coarse = np.abs(cv2.filter2D(ref, -1, k))
        if mask is not None:
            fine, coarse = fine[mask], coarse[mask]
        ratios.append(float(fine.mean()) / (float(coarse.mean()) + 0.5))
    return min(ratios)


def sharpness(crop: FaceCrop) -> float:
    """Directional re-blur sharpness of the face at the canonical scale, or at the source's scale if coarser.

    One face scale makes the measure independent of resolution; a face smaller than the canonical crop is not
    judged on an enlarged copy (its interpolation blur is not the member's fault).
    """
    if crop.native is not None:
        h, w = crop.native.shape
        return directional_sharpness(crop.native, face_mask_sized(w, h))
    return directional_sharpness(crop.grey, face_mask())


def frame_sharpness(image_rgb: np.ndarray, max_width: int = 96) -> float:
    """The same measure (sigma 2) on the centre of a frame (where the face should be), never enlarged: no-face frames."""
    h, w = image_rgb.shape[:2]
    centre = image_rgb[h // 5 : h - h // 5, w // 5 : w - w // 5]
    grey = cv2.cvtColor(centre, cv2.COLOR_RGB2GRAY) if centre.ndim == 3 else centre
    if grey.shape[1] > max_width:
        f = max_width / grey.shape[1]
        grey = cv2.resize(grey, (max_width, max(int(grey.shape[0] * f), 1)), interpolation=cv2.INTER_AREA)
    return directional_sharpness(grey, sigma=FRAME_REFERENCE_SIGMA)


def centre_luma(image_rgb: np.ndarray) -> float:
    """Mean luma of the frame's centre (middle half each way, subsampled): where a member's face would be."""
    h, w = image_rgb.shape[:2]
    centre = image_rgb[h // 4 : h - h // 4 : 2, w // 4 : w - w // 4 : 2]
    if centre.ndim == 2:
        return float(centre.mean())
    c = centre.astype(np.uint16)
    return float(((77 * c[..., 0] + 150 * c[..., 1] + 29 * c[..., 2]) >> 8).mean())


def line_depth(grey: np.ndarray, rows: tuple[float, float], cols: tuple[float, float], step: int = 2) -> float:
    """Deepest thin horizontal line (dark bar or bright glint) in a band, relative to the band's brightness.

    ``rows``/``cols`` are in IED units from the canonical eye midpoint. A spectacle bridge or rim is a thin
    horizontal line a few px wide at this scale; skin is smooth across it.
    """
    r0, r1 = int(EYE_Y + rows[0] * IED), int(EYE_Y + rows[1] * IED)
    c0, c1 = int(CROP_W / 2 + cols[0] * IED), int(CROP_W / 2 + cols[1] * IED)
    return profile_depth(grey[r0:r1, c0:c1].astype(np.float32).mean(axis=1), step)


def profile_depth(p: np.ndarray, step: int) -> float:
    """Deepest line ``step`` px half-wide in a row-mean profile ``p``, relative to its mean brightness."""
    if p.size <= 2 * step:
        return 0.0
    dark = np.minimum(p[: -2 * step], p[2 * step :]) - p[step:-step]
    bright = p[step:-step] - np.maximum(p[: -2 * step], p[2 * step :])
    return float(max(dark.max(), bright.max())) / (float(p.mean()) + 8.0)


OCCLUSION_CHROMA = 21.6  # YCrCb chroma distance, lower face vs forehead, that reads as a cover (skin has one chroma)
FLAT_MOUTH = 0.04  # relative luma contrast of the mouth region below which nothing of the mouth shows


def chroma_distance(crop: FaceCrop) -> float:
    """YCrCb chroma distance between the mouth+chin and the forehead (0 on greyscale frames)."""
    if not crop.is_colour:
        return 0.0
    upper = crop.region_rgb("forehead").reshape(-1, 3)
    lower = np.concatenate([crop.region_rgb("mouth").reshape(-1, 3), crop.region_rgb("chin").reshape(-1, 3)])
    yu = cv2.cvtColor(upper[None], cv2.COLOR_RGB2YCrCb)[0].astype(np.float32).mean(axis=0)
    yl = cv2.cvtColor(lower[None], cv2.COLOR_RGB2YCrCb)[0].astype(np.float32).mean(axis=0)
    return float(np.hypot(yu[1] - yl[1], yu[2] - yl[2]))


def mouth_contrast(crop: FaceCrop) -> float:
    """Luma standard deviation of the mouth region over its mean: lips, lip line and shading always show."""
    mouth = crop.region("mouth").astype(np.float32)
    return float(mouth.std()) / (float(mouth.mean()) + 8.0)


def occlusion_score(crop: FaceCrop, use_texture: bool = True) -> float:
    """Evidence of a cover over the lower face (mask, hand), 1.0 at the limit: its chroma or a flat mouth.

    A cover's colour differs from skin (chroma, colour frames only); and it hides the mouth's structure,
    which every uncovered mouth has (real faces >= 0.05 relative contrast, pasted masks <= 0.03). Pass
    ``use_texture=False`` on an over-exposed face: clipping flattens every region, so flatness means nothing.
    """
    score = chroma_distance(crop) / OCCLUSION_CHROMA
    if use_texture:
        score = max(score, FLAT_MOUTH / max(mouth_contrast(crop), 1e-3))
    return score


__all__ = ["IED", "eye_openness", "light_balance", "luminance_stats", "occlusion_score", "sharpness"]
