"""A canonical, eye-aligned face crop and the region statistics the checks measure on it.

Every photometric check works on one small crop warped so that the eyes sit at fixed points (like the
ArcFace/ISO token alignment): the cost does not grow with the camera resolution, regions (eyes, nose bridge,
cheeks, forehead, mouth) are fixed rectangles, and sharpness is measured at one face scale, so that it does
not depend on how far away the member stands or on the sensor size.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from terminal.analysis.landmarker import FaceObservation

# Canonical crop geometry: inter-eye distance IED px, eyes on one row; the crop spans about 1.1 IED above the
# eyes (forehead) to 2.4 IED below (past the chin) and 1.25 IED either side of the eye midpoint.
IED = 32
CROP_W = 80
CROP_H = 112
EYE_Y = 36
EYE_XS = (CROP_W / 2 - IED / 2, CROP_W / 2 + IED / 2)


def _box(x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
    """Rows/cols of a region given in IED units relative to the eye midpoint (x right, y down)."""
    cx, cy = CROP_W / 2, EYE_Y
    r0, r1 = round(cy + y0 * IED), round(cy + y1 * IED)
    c0, c1 = round(cx + x0 * IED), round(cx + x1 * IED)
    return slice(max(r0, 0), min(r1, CROP_H)), slice(max(c0, 0), min(c1, CROP_W))


# Regions in image orientation: "left" = image left = the subject's right side.
REGIONS: dict[str, tuple[slice, slice]] = {
    "eye_l": _box(-0.80, -0.25, -0.20, 0.22),
    "eye_r": _box(0.20, -0.25, 0.80, 0.22),
    "bridge": _box(-0.16, -0.20, 0.16, 0.12),
    "forehead": _box(-0.45, -0.85, 0.45, -0.45),
    "cheek_l": _box(-0.75, 0.40, -0.25, 0.90),
    "cheek_r": _box(0.25, 0.40, 0.75, 0.90),
    "nose": _box(-0.15, 0.30, 0.15, 0.75),
    "mouth": _box(-0.45, 1.05, 0.45, 1.45),
    "chin": _box(-0.30, 1.50, 0.30, 1.80),
}


@functools.cache
def face_mask() -> np.ndarray:
    """Boolean ellipse covering the inner face (brows to chin, cheek to cheek) in the canonical crop."""
    yy, xx = np.mgrid[0:CROP_H, 0:CROP_W].astype(np.float32)
    cx, cy = CROP_W / 2, EYE_Y + 0.55 * IED
    ax, ay = 0.95 * IED, 1.35 * IED
    return bool_array(((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1.0)


def bool_array(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only bool array (cached masks must not be changed by callers)."""
    out = np.asarray(a, dtype=bool)
    out.setflags(write=False)
    return out


@functools.cache
def half_masks() -> tuple[np.ndarray, np.ndarray]:
    """The face ellipse split into image-left and image-right halves (a strip on the midline left out)."""
    m = face_mask()
    xx = np.arange(CROP_W)[None, :]
    mid = CROP_W / 2
    return bool_array(m & (xx < mid - 0.1 * IED)), bool_array(m & (xx >= mid + 0.1 * IED))


@dataclass
class FaceCrop:
    """The canonical crop of one face: grey (uint8) and colour (RGB uint8), plus the warp's scale."""

    grey: np.ndarray
    rgb: np.ndarray
    scale: float  # canonical px per source px (>1 means the face was upsampled)
    is_colour: bool
    native: np.ndarray | None = None  # grey crop at the source's own scale when the face was upsampled (scale > 1)

    def region(self, name: str) -> np.ndarray:
        """Grey pixels of a named region."""
        rows, cols = REGIONS[name]
        return self.grey[rows, cols]

    def region_rgb(self, name: str) -> np.ndarray:
        """RGB pixels of a named region."""
        rows, cols = REGIONS[name]
        return self.rgb[rows, cols]


def alignment(face: FaceObservation) -> tuple[np.ndarray, float]:
    """The 2x3 similarity transform that maps the face's eye centres to the canonical ones, and its scale."""
    (rx, ry), (lx, ly) = face.eye_centers
    dx, dy = lx - rx, ly - ry
    dist = max(float(np.hypot(dx, dy)), 1e-3)
    scale = IED / dist
    cos, sin = dx / dist * scale, dy / dist * scale
    # Rotation by -angle and scaling about the eye midpoint, then translation to the canonical midpoint.
    mx, my = (rx + lx) / 2, (ry + ly) / 2
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]], dtype=np.float64)
    m[:, 2] = np.array([CROP_W / 2, EYE_Y]) - m[:, :2] @ np.array([mx, my])
    return m, scale


def is_colour_image(image_rgb: np.ndarray) -> bool:
    """True unless the three channels are (nearly) equal, checked on a sparse grid."""
    if image_rgb.ndim == 2:
        return False
    sub = image_rgb[::8, ::8].astype(np.int16)
    return bool(np.abs(sub[..., 0] - sub[..., 1]).mean() + np.abs(sub[..., 1] - sub[..., 2]).mean() > 2.0)


def face_crop(image_rgb: np.ndarray, face: FaceObservation) -> FaceCrop:
    """Warp the face into the canonical crop (INTER_AREA-like when shrinking, linear when enlarging)."""
    m, scale = alignment(face)
    img = image_rgb if image_rgb.ndim == 3 else np.repeat(image_rgb[:, :, None], 3, axis=2)
    k = int(1.0 / (1.5 * scale))
    if k >= 2:
        # Shrinking a lot with a linear warp aliases. Pre-shrink only the face box by an integer factor with
        # INTER_AREA (its fast path: exact box averaging), then warp the small copy.
        x0, y0, x1, y1 = face.bbox
        pad = 0.4 * (x1 - x0)
        bx0, by0 = max(int(x0 - pad), 0), max(int(y0 - pad), 0)
        bw = (min(int(x1 + pad) + 1, img.shape[1]) - bx0) // k * k
        bh = (min(int(y1 + pad) + 1, img.shape[0]) - by0) // k * k
        if bw >= k and bh >= k:
            small = cv2.resize(img[by0 : by0 + bh, bx0 : bx0 + bw], (bw // k, bh // k), interpolation=cv2.INTER_AREA)
            shift = np.array([[k, 0, bx0 + (k - 1) / 2], [0, k, by0 + (k - 1) / 2], [0, 0, 1]], dtype=np.float64)
            m = m @ shift
            img = small
    rgb = cv2.warpAffine(img, m, (CROP_W, CROP_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    native = _native_grey(image_rgb, face, scale) if scale > 1.0 else None
    return FaceCrop(grey=grey, rgb=rgb, scale=scale, is_colour=is_colour_image(rgb), native=native)


def _native_grey(image_rgb: np.ndarray, face: FaceObservation, scale: float) -> np.ndarray:
    """The canonical crop's area at the source's own pixel scale (rotated, never enlarged).

    Enlarging a small face interpolates detail that was never there, and the interpolation itself blurs: a sharp
    face of 15 px eye distance looks as soft as a motion-blurred one once enlarged to 32 px. Sharpness is
    therefore measured at the canonical scale or the source's own, whichever is coarser. On a terminal
    (eye distance >= FACE_TOO_SMALL's 40 px) faces are always shrunk and this is never needed.
    """
    m, _ = alignment(face)
    m = m / scale
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY) if image_rgb.ndim == 3 else image_rgb
    size = (max(round(CROP_W / scale), 8), max(round(CROP_H / scale), 8))
    return cv2.warpAffine(grey, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@functools.cache
def face_mask_sized(width: int, height: int) -> np.ndarray:
    """The face ellipse of ``face_mask`` resampled to a crop of ``width`` x ``height`` px."""
    small = cv2.resize(face_mask().astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return bool_array(small)
