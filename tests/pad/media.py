"""What an attacker's medium does to a picture: print, halftone, fold, screen (moire, gamma, glare, bezel), eyelid warp.

Pure image functions (RGB uint8 in, RGB uint8 out) used by attacks.py; recipes are written up in
docs/liveness.md ("Attack set").
"""

from __future__ import annotations

import cv2
import numpy as np


def print_texture(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An inkjet/laser print re-photographed: ink gamut (less contrast, less saturation), paper white, grain, soft."""
    x = img.astype(np.float32) / 255.0
    grey = x.mean(axis=2, keepdims=True)
    x = 0.75 * x + 0.25 * grey  # saturation lost in the ink gamut
    x = 0.06 + 0.86 * x**1.15  # paper white is not 255, ink black is not 0
    x = cv2.GaussianBlur(x, (0, 0), 0.8)
    grain = rng.normal(0.0, 0.018, x.shape[:2]).astype(np.float32)[..., None]  # paper fibre, same on all channels
    return np.clip((x + grain) * 255.0, 0, 255).astype(np.uint8)


def halftone(img: np.ndarray, period: float = 4.0) -> np.ndarray:
    """A clustered-dot halftone print: each channel screened at its own angle (15, 75, 45 degrees), then soft."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty_like(img)
    for c, angle in enumerate((15.0, 75.0, 45.0)):
        a = np.deg2rad(angle)
        u = xx * np.cos(a) + yy * np.sin(a)
        v = -xx * np.sin(a) + yy * np.cos(a)
        screen = (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period)) / 4.0 + 0.5
        out[..., c] = np.where(img[..., c].astype(np.float32) / 255.0 > screen, 235, 20).astype(np.uint8)
    return cv2.GaussianBlur(out, (0, 0), 0.9)


def fold(img: np.ndarray, crease_y: float, angle_deg: float) -> np.ndarray:
    """The picture folded along a horizontal crease (at the eyes): the upper part tilts away, foreshortened and darker."""
    h, w = img.shape[:2]
    c = float(np.cos(np.deg2rad(angle_deg)))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    src_y = np.where(yy < crease_y, crease_y - (crease_y - yy) / max(c, 0.2), yy)
    # Perspective: the tilted part also narrows toward its far (top) edge.
    shrink = np.where(yy < crease_y, 1.0 + (1.0 - c) * 0.3 * (crease_y - yy) / max(crease_y, 1.0), 1.0)
    src_x = (xx - w / 2) * shrink + w / 2
    out = cv2.remap(
        img,
        src_x.astype(np.float32),
        src_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(200, 200, 200),
    )
    shade = np.where(yy < crease_y, 0.75 + 0.25 * c, 1.0)[..., None]
    return np.clip(out.astype(np.float32) * shade, 0, 255).astype(np.uint8)


def screen(img: np.ndarray, t: float, rng: np.random.Generator, moire: float = 0.10) -> np.ndarray:
    """A phone/tablet screen re-photographed: display gamma, blue cast, moire beat, pixel grid, moving glare."""
    h, w = img.shape[:2]
    x = (img.astype(np.float32) / 255.0) ** 0.8  # display gamma vs camera curve: lifted mid-tones
    x = x * np.array([0.92, 0.97, 1.06], np.float32) + 0.03  # cold white point, black level of an LCD
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = np.deg2rad(7.0 + 2.0 * np.sin(t))
    beat = np.sin(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / 5.3)  # camera grid vs pixel grid: moire
    grid = 1.0 - 0.06 * ((xx.astype(np.int32) % 3) == 2)  # sub-pixel stripes
    x = x * (1.0 + moire * beat)[..., None] * grid[..., None]
    cx, cy = w * (0.3 + 0.1 * np.sin(0.7 * t)), h * (0.25 + 0.05 * np.cos(0.9 * t))
    glare = 0.35 * np.exp(-(((xx - cx) / (0.18 * w)) ** 2 + ((yy - cy) / (0.12 * h)) ** 2))
    x = x + glare[..., None]
    x = x + rng.normal(0.0, 0.01, x.shape).astype(np.float32)
    return np.clip(x * 255.0, 0, 255).astype(np.uint8)


def bezel(img: np.ndarray, frac: float = 0.06) -> np.ndarray:
    """A black device bezel around the screen content."""
    h, w = img.shape[:2]
    b = max(2, int(frac * min(h, w)))
    out = cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_CONSTANT, value=(12, 12, 14))
    return out


def paper_margin(img: np.ndarray, frac: float = 0.04) -> np.ndarray:
    """The white margin of a print."""
    b = max(2, int(frac * min(img.shape[:2])))
    return cv2.copyMakeBorder(img, b, b, b, b, cv2.BORDER_CONSTANT, value=(232, 230, 225))


def warp_eyelids(img: np.ndarray, landmarks: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Pull each upper eyelid down to the lower lid (stretching the lid skin over the eye), ``amount`` 0..1."""
    out = img
    for upper, lower, corners in (
        ((159, 158, 160), (145, 153, 144), (33, 133)),
        ((386, 385, 387), (374, 380, 373), (362, 263)),
    ):
        p = landmarks[:, :2]
        x0, x1 = sorted((float(p[corners[0], 0]), float(p[corners[1], 0])))
        y_up = float(np.mean(p[list(upper), 1]))
        y_low = float(np.mean(p[list(lower), 1]))
        eye_w = x1 - x0
        y_top = y_up - 0.6 * eye_w  # the lid skin up to the brow
        h, w = out.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = 1.0 + amount * ((y_up - y_top) / max(y_low - y_top, 1.0) - 1.0)
        inside = (yy >= y_top) & (yy <= y_low + 0.15 * eye_w)
        xc = (x0 + x1) / 2
        fall = np.clip(1.0 - np.abs(xx - xc) / (0.75 * eye_w), 0.0, 1.0)  # fades out beyond the eye corners
        fall = fall * fall * (3 - 2 * fall)
        src_y = np.where(yy <= y_low, y_top + (yy - y_top) * r, yy)
        src_y = np.where(inside, yy + (src_y - yy) * fall, yy)
        out = cv2.remap(out, xx, src_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def hold(
    medium: np.ndarray, canvas: np.ndarray, t: float, scale: float, tilt_deg: float = 0.0, sway: float = 1.0
) -> np.ndarray:
    """``medium`` held in front of the camera over ``canvas``: scaled, swaying, optionally tilted (perspective)."""
    H, W = canvas.shape[:2]
    h, w = medium.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    s = scale * min(W / w, H / h) * (1 + 0.02 * sway * np.sin(1.3 * t))
    cx = W / 2 + 10 * sway * np.sin(0.7 * t)
    cy = H / 2 + 7 * sway * np.sin(1.1 * t)
    rot = np.deg2rad(2.0 * sway * np.sin(0.9 * t))
    tilt = np.deg2rad(tilt_deg)
    corners = []
    for x, y in src - np.array([w / 2, h / 2], np.float32):
        x, y = x * s, y * s
        k = 1.0 + np.sin(tilt) * x / (W * 1.2)  # the far side of a tilted sheet is smaller
        x, y = x * np.cos(tilt) * k, y * k
        corners.append([cx + x * np.cos(rot) - y * np.sin(rot), cy + x * np.sin(rot) + y * np.cos(rot)])
    m = cv2.getPerspectiveTransform(src, np.array(corners, np.float32))
    return cv2.warpPerspective(medium, m, (W, H), dst=canvas.copy(), borderMode=cv2.BORDER_TRANSPARENT)
