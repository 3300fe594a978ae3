"""The unit that flows through the pipeline: an RGB image, a monotonic timestamp and camera metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Frame:
    """One captured frame.

    ``image`` is RGB uint8 HxWx3. ``timestamp`` is monotonic seconds: the sensor's clock on a camera, the
    recorded time on a replay, so that everything downstream (steadiness, debounce, timeouts) runs on frame
    time and replays are deterministic. ``metadata`` uses picamera2's names where they exist
    (``ExposureTime`` in µs, ``AnalogueGain``, ``Lux``) plus ours (``RingLight`` duty 0..1).
    """

    image: np.ndarray
    timestamp: float
    index: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])


def mean_luma(image: np.ndarray, step: int = 4) -> float:
    """Mean Rec.601 luma (0..255) of an RGB image, on a subsampled grid (cheap enough for every frame)."""
    sub = image[::step, ::step]
    if sub.ndim == 2:
        return float(sub.mean())
    # Integer weights avoid a float copy of the whole frame: 77/150/29 ≈ 0.299/0.587/0.114 * 256.
    r = sub[..., 0].astype(np.uint32)
    g = sub[..., 1].astype(np.uint32)
    b = sub[..., 2].astype(np.uint32)
    return float(((77 * r + 150 * g + 29 * b) >> 8).mean())
