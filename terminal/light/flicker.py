"""Flicker of the ring light as the camera sees it: frame-to-frame brightness variation and row banding at a
fixed duty and fixed exposure (``terminal light test`` and ``terminal diagnose`` report both).

Both are computed in linear light on the frames' luma. Frame-to-frame variation is the relative standard
deviation of the frames' mean. Banding is measured against the scene itself: each frame's row profile is divided
by the mean row profile over all frames, so the scene's own structure cancels and what remains is the light that
moves between rows from one frame to the next (rolling-shutter bands). Sensor noise sets a floor of a few 0.1%.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from terminal.light.simscene import srgb_to_linear_lut

LIMIT = 0.01  # goal: below 1% frame-to-frame and banding at fixed duty (issue 15)
_LUT = srgb_to_linear_lut()


def _row_profiles(images: Sequence[np.ndarray]) -> np.ndarray:
    """(frames, rows) mean linear luma per row."""
    out = []
    for img in images:
        lin = _LUT[img] if img.dtype == np.uint8 else img.astype(np.float32)
        luma = lin[..., 0] * 0.299 + lin[..., 1] * 0.587 + lin[..., 2] * 0.114 if lin.ndim == 3 else lin
        out.append(luma.mean(axis=1))
    return np.asarray(out, dtype=np.float64)


def flicker_of(images: Sequence[np.ndarray]) -> dict[str, float]:
    """{"frame_variation", "banding"} as fractions, from at least 3 frames taken at one duty and exposure."""
    if len(images) < 3:
        raise ValueError("flicker needs at least 3 frames")
    rows = _row_profiles(images)
    means = rows.mean(axis=1)
    frame_variation = float(means.std() / max(float(means.mean()), 1e-12))
    lit = rows.mean(axis=0) > 1e-4  # rows that are black in every frame say nothing
    if not lit.any():
        return {"frame_variation": frame_variation, "banding": 0.0}
    # Remove each frame's overall level first: banding is what differs between rows, not between frames.
    rel = rows[:, lit] / np.maximum(means[:, None], 1e-12)
    ripple = rel / rel.mean(axis=0, keepdims=True)
    return {"frame_variation": frame_variation, "banding": float(ripple.std(axis=1).mean())}


def hold_and_measure(read: Callable[[], Any], n: int, settle: int = 2) -> dict[str, float]:
    """Read ``settle`` frames (pipeline catching up), then ``n`` frames, and measure their flicker."""
    for _ in range(settle):
        read()
    return flicker_of([read().image for _ in range(max(3, n))])


def verdict(fig: dict[str, float], limit: float = LIMIT) -> str:
    """'ok' when both figures are below ``limit``, else 'flicker'."""
    return "ok" if fig["frame_variation"] < limit and fig["banding"] < limit else "flicker"
