"""Landmarks of a still (for the fold line and the eyelid warp), from the terminal's own landmarker, cached."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _landmarker() -> object:
    from terminal.analysis.landmarker import FaceLandmarker

    return FaceLandmarker(mode="image")


def landmarks_of(img: np.ndarray) -> np.ndarray:
    """(478, 3) pixel landmarks of the largest face in ``img``; ValueError when there is none."""
    faces = _landmarker().detect(img)  # type: ignore[attr-defined]
    if not faces:
        raise ValueError("no face in the attack's source image")
    return np.asarray(faces[0].landmarks, np.float32)
