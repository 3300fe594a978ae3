"""The landmarker wrapper on real images: pixel landmarks, pose signs, VIDEO timestamps, model errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from terminal.analysis.landmarker import FaceLandmarker
from terminal.errors import ModelError
from tests.analysis.conftest import quality_image


def test_landmarks_are_pixels_and_pose_is_frontal(landmarker: FaceLandmarker) -> None:
    img = quality_image("ok", "yalefaces__subject01__normal.jpg")
    faces = landmarker.detect(img)
    assert len(faces) == 1
    f = faces[0]
    assert f.landmarks.shape == (478, 3) and f.landmarks.dtype == np.float32
    h, w = img.shape[:2]
    x0, y0, x1, y1 = f.bbox
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert 30 < f.inter_eye_px < 80
    assert abs(f.yaw) < 8 and abs(f.pitch) < 10 and abs(f.roll) < 5
    assert f.matrix.shape == (4, 4) and "eyeBlinkLeft" in f.blendshapes


def test_roll_sign_follows_image_rotation(landmarker: FaceLandmarker) -> None:
    img = quality_image("ok", "yalefaces__subject01__normal.jpg")
    h, w = img.shape[:2]
    rot = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 20, 1.0), (w, h), borderMode=cv2.BORDER_REPLICATE)
    roll = landmarker.detect(rot)[0].roll
    assert 14 < roll < 26  # counter-clockwise in the image is positive


def test_yaw_sign_flips_with_mirror(landmarker: FaceLandmarker) -> None:
    img = quality_image("POSE_YAW", "cmu_faces__ch4f__ch4f_left_neutral_open.png")
    yaw = landmarker.detect(img)[0].yaw
    mirrored = landmarker.detect(np.ascontiguousarray(img[:, ::-1]))[0].yaw
    assert yaw > 15 and mirrored < -15


def test_two_faces_are_both_found(landmarker: FaceLandmarker) -> None:
    img = quality_image("ok", "yalefaces__subject02__normal.jpg")
    pair = np.concatenate([img, quality_image("ok", "yalefaces__subject05__normal.jpg")], axis=1)
    assert len(landmarker.detect(pair)) == 2


def test_video_mode_accepts_repeated_and_decreasing_timestamps() -> None:
    img = quality_image("ok", "yalefaces__subject01__normal.jpg")
    with FaceLandmarker(mode="video", max_faces=1) as lm:
        for t in (0.0, 0.0, 0.01, 0.005, None):
            assert len(lm.detect(img, t)) == 1


def test_missing_and_corrupt_model_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        FaceLandmarker(tmp_path / "nope.task")
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        FaceLandmarker(bad)
