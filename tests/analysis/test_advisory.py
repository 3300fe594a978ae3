"""Blocking versus advisory checks: what the gate reports and what stops a capture (docs/quality.md)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from terminal.analysis import codes as C
from terminal.analysis.gate import QualityGate, count_faces
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation
from terminal.analysis.settings import QualityConfig
from terminal.config.loader import load_config
from terminal.errors import ConfigError
from tests.analysis.conftest import RESEARCH_SKIP, quality_image, shared_image


def rotate(img: np.ndarray, deg: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def test_defaults_block_only_what_costs_matching() -> None:
    q = QualityConfig()
    assert set(q.advisory) == {C.EYES_CLOSED, C.BLURRY, C.TOO_BRIGHT}
    assert (q.capture_max_yaw_deg, q.capture_max_pitch_deg, q.capture_max_roll_deg) == (25.0, 20.0, 12.0)
    assert q.capture_min_light_balance == 0.45 < q.min_light_balance


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('advisory = ["NOT_A_CODE"]', ["advisory", "NOT_A_CODE"]),
        ('advisory = ["MULTIPLE_FACES"]', ["advisory", "MULTIPLE_FACES", "always blocks"]),
        ('advisory = ["NO_FACE"]', ["advisory", "NO_FACE"]),
        ("capture_max_roll_deg = 8.0", ["capture_max_roll_deg", "guidance limit"]),
        ("capture_max_pitch_deg = 10", ["capture_max_pitch_deg"]),
        ("capture_min_light_balance = 0.7", ["capture_min_light_balance"]),
        ('advisory = "EYES_CLOSED"', ["advisory"]),
    ],
)
def test_bad_capture_settings_are_refused_naming_the_key(tmp_path: Path, toml: str, words: list[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[quality]\n{toml}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "\n" not in msg.strip() or len(msg.splitlines()) <= 3
    for w in words:
        assert w in msg, msg


def test_advisory_can_be_emptied_so_every_check_blocks(tmp_path: Path, landmarker: FaceLandmarker) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[quality]\nadvisory = []\n")
    cfg = load_config(path)
    strict = QualityGate(cfg.quality, landmarker, skip=RESEARCH_SKIP)
    v = strict.analyze(quality_image("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg"))
    assert not v.passed and C.EYES_CLOSED in v.failures and v.advisories == []


def test_closed_eyes_are_reported_but_do_not_block(gate: QualityGate) -> None:
    v = gate.analyze(quality_image("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg"))
    assert v.passed and v.instruction is None
    assert v.advisories == [C.EYES_CLOSED] and v.reported == [C.EYES_CLOSED]
    eyes = v.check(C.EYES_CLOSED)
    assert eyes is not None and not eyes.passed and not eyes.blocking
    assert v.to_dict()["advisories"] == [C.EYES_CLOSED]
    clean = gate.analyze(quality_image("ok", "yalefaces__subject01__normal.jpg"))
    assert clean.passed and not clean.advisories and v.quality < clean.quality  # best-frame choice prefers it


def test_roll_between_the_guidance_and_capture_limits_is_advisory(gate: QualityGate) -> None:
    img = quality_image("ok", "yalefaces__subject01__normal.jpg")
    base = gate.analyze(img).face
    assert base is not None
    # Rotate until the measured roll lies between the guidance (10) and capture (12) limits.
    mid = next(
        v
        for deg in np.arange(9.0, 14.0, 0.25)
        if (v := gate.analyze(rotate(img, float(deg)))).face is not None and 10.0 < abs(v.face.roll) <= 12.0
    )
    assert mid.passed and C.POSE_ROLL in mid.advisories and C.POSE_ROLL not in mid.failures
    far = gate.analyze(rotate(img, 25))
    assert not far.passed and C.POSE_ROLL in far.failures and far.instruction == C.POSE_ROLL


def test_uneven_light_blocks_only_when_severe(gate: QualityGate) -> None:
    img = quality_image("ok", "yalefaces__subject01__normal.jpg").astype(np.float32)
    h, w = img.shape[:2]
    advisory = blocking = None
    for dim in np.arange(0.9, 0.0, -0.05):  # the member's one side darker and darker
        ramp = np.ones((h, w, 1), np.float32)
        ramp[:, w // 2 :] = dim
        v = gate.analyze(np.clip(img * ramp, 0, 255).astype(np.uint8))
        res = v.check(C.UNEVEN_LIGHT)
        assert res is not None and res.value is not None
        if 0.45 <= res.value < 0.6:
            assert not res.passed and not res.blocking and C.UNEVEN_LIGHT in v.advisories
            advisory = res.value
        elif res.value < 0.45:
            assert res.blocking and C.UNEVEN_LIGHT in v.failures and not v.passed
            blocking = res.value
            break
    assert advisory is not None and blocking is not None, (advisory, blocking)


def test_a_face_nested_inside_the_face_is_not_a_second_face(gate: QualityGate) -> None:
    # ORL s14: the landmarker also meshes the eye region as a "face" inside the face box.
    img = shared_image("match_clean/orl_att-s14/2.png")
    v = gate.analyze(img)
    assert v.n_faces == 1 and C.MULTIPLE_FACES not in v.failures, v.failures
    # Two people side by side still count as two.
    two = gate.analyze(shared_image("match_clean/face_recognition_examples-obama/obama1.jpg"))
    assert two.n_faces == 2 and C.MULTIPLE_FACES in two.failures


def _face(box: tuple[float, float, float, float]) -> FaceObservation:
    return FaceObservation(
        landmarks=np.zeros((478, 3), np.float32),
        blendshapes={},
        matrix=np.eye(4),
        bbox=box,
        yaw=0.0,
        pitch=0.0,
        roll=0.0,
        inter_eye_px=30.0,
    )


def test_count_faces_drops_only_nested_boxes() -> None:
    big = _face((0, 0, 100, 100))
    assert count_faces([big, _face((40, 20, 70, 50))]) == 1  # inside the face
    assert count_faces([big, _face((90, 0, 190, 100))]) == 2  # beside it, touching
    assert count_faces([_face((40, 20, 70, 50)), big]) == 1  # order does not matter
    assert count_faces([]) == 0
