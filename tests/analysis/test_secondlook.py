"""The second look (BlazeFace detector) on faces the landmarker misses, the tiled face count, the flat-mouth cue."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from terminal.analysis import measures
from terminal.analysis.detector import Detection, FaceDetector, containment, distinct
from terminal.analysis.faceregion import face_crop
from terminal.analysis.gate import QualityGate
from terminal.analysis.landmarker import FaceLandmarker
from terminal.analysis.settings import QualityConfig
from tests.analysis.conftest import RESEARCH_SKIP, quality_image, shared_image
from tests.support.shared import data

# A strong profile the landmarker returns nothing for (MediaPipe's mesh fails on it), and a frontal face.
PROFILE = ("POSE_YAW", "cmu_faces__cheyer__cheyer_right_angry_open.png")
FRONTAL = ("ok", "yalefaces__subject01__normal.jpg")


@pytest.fixture(scope="module")
def detector() -> Iterator[FaceDetector]:
    """The BlazeFace short-range detector from the model manifest."""
    with FaceDetector() as d:
        yield d


def test_profile_unseen_by_landmarker_is_pose_yaw_not_bare_no_face(
    gate: QualityGate, landmarker: FaceLandmarker
) -> None:
    img = quality_image(*PROFILE)
    assert landmarker.detect(img) == []  # the case the second look exists for
    v = gate.analyze(img)
    assert not v.passed and "POSE_YAW" in v.failures and v.instruction == "POSE_YAW"
    # Mirrored, it is still a turned head.
    assert "POSE_YAW" in gate.analyze(np.ascontiguousarray(img[:, ::-1])).failures


def test_second_look_off_gives_bare_no_face(landmarker: FaceLandmarker) -> None:
    g = QualityGate(QualityConfig(second_look=False), landmarker, skip=RESEARCH_SKIP)
    try:
        assert g.analyze(quality_image(*PROFILE)).failures == ["NO_FACE"]
    finally:
        g.close()


def test_keypoint_yaw_ratio_frontal_vs_profile(detector: FaceDetector) -> None:
    frontal = max(detector.detect(quality_image(*FRONTAL)), key=lambda d: d.score)
    profile = max(detector.detect(quality_image(*PROFILE)), key=lambda d: d.score)
    assert abs(frontal.yaw_ratio()) < 0.15 and frontal.score > 0.8
    assert abs(profile.yaw_ratio()) > 0.4 and profile.score > 0.6


def test_raised_chin_is_meshed_on_a_crop_and_fails_pitch(gate: QualityGate, landmarker: FaceLandmarker) -> None:
    img = quality_image("POSE_PITCH", "cmu_faces__cheyer__cheyer_up_angry_open.png")
    assert landmarker.detect(img) == []
    v = gate.analyze(img)
    assert v.n_faces == 1 and v.face is not None and "POSE_PITCH" in v.failures
    assert v.face.pitch < -15  # real landmarks, mapped back into the frame
    h, w = img.shape[:2]
    x0, y0, x1, y1 = v.face.bbox
    assert -0.2 * w < x0 < x1 < 1.2 * w and -0.2 * h < y0 < y1 < 1.2 * h


def test_small_background_faces_are_counted(gate: QualityGate) -> None:
    # A group photo where the landmarker finds no face at all, and a derived case: a good face with a
    # second, much smaller face pasted in the corner (a bystander far behind the member).
    v = gate.analyze(quality_image("MULTIPLE_FACES", "conditions__multi_face__faceapi_bbt1.jpg"))
    assert "MULTIPLE_FACES" in v.failures
    big = cv2.resize(quality_image(*FRONTAL), (640, 486))
    other = quality_image("ok", "yalefaces__subject05__normal.jpg")
    small = cv2.resize(other, (other.shape[1] * 2 // 3, other.shape[0] * 2 // 3))
    frame = big.copy()
    frame[: small.shape[0], -small.shape[1] :] = small
    assert gate.analyze(big).passed
    v = gate.analyze(frame)
    assert v.n_faces >= 2 and "MULTIPLE_FACES" in v.failures


def test_tiled_count_adds_no_face_on_single_face_video(gate: QualityGate, detector: FaceDetector) -> None:
    frames = sorted(data("videos/pyfeat_single_face/frames").glob("*.jpg"))[::12]
    assert len(frames) >= 6
    for p in frames:
        img = shared_image(f"videos/pyfeat_single_face/frames/{p.name}")
        assert len(distinct(detector.detect_tiled(img), 0.7)) == 1, p.name


def test_no_face_images_stay_no_face(gate: QualityGate) -> None:
    names = sorted(p.name for p in data("quality/NO_FACE").iterdir())
    assert len(names) >= 4
    for name in names:
        v = gate.analyze(quality_image("NO_FACE", name))
        assert v.n_faces == 0 and "POSE_YAW" not in v.failures and "MULTIPLE_FACES" not in v.failures, name


def test_flat_mouth_is_occlusion_but_a_washed_out_face_is_not(gate: QualityGate, landmarker: FaceLandmarker) -> None:
    img = quality_image(*FRONTAL)
    face = landmarker.detect(img)[0]
    assert measures.mouth_contrast(face_crop(img, face)) > 0.05
    # Derived mask: paint the lower face (mouth, chin) one smooth grey, on a greyscale image (no chroma cue).
    covered = img.copy()
    lm = face.landmarks
    pts = lm[
        [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454, 4], :2
    ].astype(np.int32)
    cv2.fillPoly(covered, [cv2.convexHull(pts)], (205, 205, 205))
    v = gate.analyze(covered)
    assert "OCCLUDED_FACE" in v.failures, v.failures
    crop = face_crop(covered, face)
    assert measures.occlusion_score(crop, use_texture=False) < 1.0 < measures.occlusion_score(crop)


def test_distinct_uses_containment() -> None:
    k = np.zeros((6, 2), np.float32)
    whole = Detection((0, 0, 100, 100), 0.9, k)
    cut = Detection((50, 0, 100, 100), 0.8, k)  # the same face cut by a tile edge
    far = Detection((200, 0, 260, 60), 0.75, k)
    assert containment(whole.box, cut.box) == 1.0
    assert distinct([cut, far, whole], 0.7) == [whole, far]
    assert distinct([cut, far, whole], 0.85) == [whole]


@pytest.mark.parametrize(
    "name", ["cmu_faces__an2i__an2i_up_neutral_open.png", "cmu_faces__kk49__kk49_up_angry_open.png"]
)
def test_small_raised_chin_face_far_back_is_told_to_come_closer_not_no_face(full_gate: QualityGate, name: str) -> None:
    img = quality_image("POSE_PITCH", name)
    h, w = img.shape[:2]
    small = cv2.resize(img, (int(w * 1.5), int(h * 1.5)), interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 110, np.uint8)  # a member far back in a terminal-sized frame
    y0, x0 = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
    frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    full_gate.reset()
    v = full_gate.analyze(frame)
    assert "NO_FACE" not in v.failures and {"FACE_TOO_SMALL", "POSE_PITCH"} <= set(v.failures), v.failures
