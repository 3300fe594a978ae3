"""Synthetic FaceObservations for unit tests that need a face but not real landmarks."""

from __future__ import annotations

import numpy as np

from terminal.analysis.landmarker import FaceObservation


def flat_face(
    blink: float = 0.0,
    bbox: tuple[float, float, float, float] = (0, 0, 1, 1),
    inter_eye_px: float = 60.0,
) -> FaceObservation:
    """A frontal face with both eyeBlink blendshapes at ``blink``, the given box and eye distance, zero landmarks."""
    return FaceObservation(
        landmarks=np.zeros((478, 3), np.float32),
        blendshapes={"eyeBlinkLeft": blink, "eyeBlinkRight": blink},
        matrix=np.eye(4),
        bbox=bbox,
        yaw=0.0,
        pitch=0.0,
        roll=0.0,
        inter_eye_px=inter_eye_px,
    )
