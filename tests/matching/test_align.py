"""Alignment: the five points, the similarity transform and the crop."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.matching.align import (
    ARCFACE_112,
    FIVE_POINT_INDICES,
    AlignmentError,
    align_face,
    five_points,
    similarity_matrix,
)


def landmarks_with(points: np.ndarray) -> np.ndarray:
    """A (478, 3) landmark array whose five alignment points are ``points``; the rest is noise."""
    lm = np.random.default_rng(0).uniform(0, 50, size=(478, 3)).astype(np.float32)
    lm[list(FIVE_POINT_INDICES), :2] = points
    return lm


def test_five_points_takes_irises_nose_and_mouth_corners() -> None:
    pts = np.arange(10, dtype=np.float32).reshape(5, 2) + 100
    out = five_points(landmarks_with(pts))
    assert out.shape == (5, 2)
    np.testing.assert_allclose(out, pts)


def test_five_points_refuses_the_468_point_mesh() -> None:
    with pytest.raises(AlignmentError):
        five_points(np.zeros((468, 3), np.float32))


@settings(max_examples=40, deadline=None)
@given(
    angle=st.floats(-60, 60),
    scale=st.floats(0.5, 4.0),
    tx=st.floats(-100, 300),
    ty=st.floats(-100, 300),
    method=st.sampled_from(["lsq", "lmeds"]),
)
def test_similarity_maps_a_transformed_template_back(
    angle: float, scale: float, tx: float, ty: float, method: str
) -> None:
    m_fwd = cv2.getRotationMatrix2D((56.0, 56.0), angle, scale)
    m_fwd[:, 2] += (tx, ty)
    src = cv2.transform(ARCFACE_112[None], m_fwd)[0]
    m = similarity_matrix(src, ARCFACE_112, method)
    back = cv2.transform(src[None].astype(np.float64), m)[0]
    np.testing.assert_allclose(back, ARCFACE_112, atol=1e-2)


def test_align_face_undoes_rotation_and_scale() -> None:
    # A textured 112x112 "face" placed in a larger image rotated by 25 degrees and scaled 2.5x must come back.
    rng = np.random.default_rng(1)
    face = cv2.GaussianBlur(rng.integers(0, 255, (112, 112, 3), dtype=np.uint8), (5, 5), 0)
    m_fwd = cv2.getRotationMatrix2D((56.0, 56.0), 25.0, 2.5)
    m_fwd[:, 2] += (200.0, 150.0)
    big = cv2.warpAffine(face, m_fwd, (640, 480), flags=cv2.INTER_LINEAR)
    pts = cv2.transform(ARCFACE_112[None], m_fwd)[0]
    crop = align_face(big, landmarks_with(pts))
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    inner = (slice(20, 92), slice(20, 92))
    err = np.abs(crop[inner].astype(float) - face[inner].astype(float)).mean()
    assert err < 6.0, err
    # and the identity crop of an unrelated image is far off: the comparison above can fail
    assert np.abs(big[:112, :112][inner].astype(float) - face[inner].astype(float)).mean() > 30


def test_least_squares_agrees_with_lmeds_on_noisy_points() -> None:
    rng = np.random.default_rng(7)
    m_fwd = cv2.getRotationMatrix2D((0.0, 0.0), 20.0, 2.2)
    src = cv2.transform(ARCFACE_112[None], m_fwd)[0] + rng.normal(0, 0.8, (5, 2)).astype(np.float32)
    a = cv2.transform(src[None].astype(np.float64), similarity_matrix(src, ARCFACE_112, "lsq"))[0]
    b = cv2.transform(src[None].astype(np.float64), similarity_matrix(src, ARCFACE_112, "lmeds"))[0]
    assert np.abs(a - ARCFACE_112).max() < 1.5 and np.abs(a - b).max() < 1.5


def test_align_face_accepts_grey_and_other_sizes() -> None:
    grey = np.full((200, 200), 128, np.uint8)
    crop = align_face(grey, landmarks_with(ARCFACE_112 + 40), size=224)
    assert crop.shape == (224, 224, 3)


def test_degenerate_points_raise_alignment_error() -> None:
    with pytest.raises(AlignmentError):
        align_face(np.zeros((100, 100, 3), np.uint8), landmarks_with(np.zeros((5, 2), np.float32)))
