"""Cheap per-frame light measurements: face-region or centre-weighted luma, left/right balance, background."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

Box = tuple[int, int, int, int]
# Samples per side of the measured region: a ~48x48 grid keeps the cost to tens of µs at any resolution.
GRID = 48


@dataclass(frozen=True, slots=True)
class Measurement:
    """Luma values (0..255, Rec.601) of one frame."""

    brightness: float  # face region, or centre-weighted frame when there is no face
    left: float | None  # left and right halves of the face (None without a face box)
    right: float | None
    background: float | None  # the frame outside the face box
    clipped: float  # fraction of measured samples at >= 250


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec.601 luma of an RGB (or grey) uint8 array, as float32."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return 0.299 * r.astype(np.float32) + 0.587 * g.astype(np.float32) + 0.114 * b.astype(np.float32)


@lru_cache(maxsize=8)
def centre_weights(h: int, w: int) -> np.ndarray:
    """Normalised Gaussian weights (sigma = a quarter of each side) favouring where a face is framed."""
    ys = (np.arange(h, dtype=np.float32) - (h - 1) / 2) / (h / 4)
    xs = (np.arange(w, dtype=np.float32) - (w - 1) / 2) / (w / 4)
    wgt = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2))
    return (wgt / wgt.sum()).astype(np.float32)


def _step(h: int, w: int) -> int:
    return max(1, min(h, w) // GRID)


def clamp_box(box: Box, h: int, w: int) -> Box | None:
    """The box clipped to the image, or None when nothing of it is inside."""
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, x1 = max(0, min(x0, w)), max(0, min(x1, w))
    y0, y1 = max(0, min(y0, h)), max(0, min(y1, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def measure(image: np.ndarray, face_box: Box | None = None) -> Measurement:
    """Measure the face region (or the centre-weighted frame) on a subsampled grid."""
    h, w = image.shape[:2]
    box = clamp_box(face_box, h, w) if face_box is not None else None
    if box is None:
        step = _step(h, w)
        sub = luma(image[::step, ::step])
        wgt = centre_weights(*sub.shape)
        return Measurement(float((sub * wgt).sum()), None, None, None, float((sub >= 250).mean()))
    x0, y0, x1, y1 = box
    step = _step(y1 - y0, x1 - x0)
    face = luma(image[y0:y1:step, x0:x1:step])
    half = face.shape[1] // 2
    left = float(face[:, :half].mean()) if half else float(face.mean())
    right = float(face[:, half:].mean())
    bstep = _step(h, w)
    whole = luma(image[::bstep, ::bstep])
    mask = np.ones(whole.shape, dtype=bool)
    mask[y0 // bstep : (y1 + bstep - 1) // bstep, x0 // bstep : (x1 + bstep - 1) // bstep] = False
    background = float(whole[mask].mean()) if mask.any() else None
    return Measurement(float(face.mean()), left, right, background, float((face >= 250).mean()))


def to_linear(v: float) -> float:
    """Luma 0..255 to relative linear light 0..1 under the sRGB response (close to a Pi camera's tone curve)."""
    c = max(0.0, min(float(v), 255.0)) / 255.0
    return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)


def from_linear(x: float) -> float:
    """Relative linear light 0..1 to luma 0..255 (sRGB encoding)."""
    x = max(0.0, min(float(x), 1.0))
    return 255.0 * (12.92 * x if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055)
