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
from tests.support.faces import flat_face


def rotate(img: np.ndarray, deg: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def test_defaults_block_only_what_costs_matching() -> None:
    q = QualityConfig()
    assert q.advisory == [C.EYES_CLOSED]  # blur and over-exposure cost matching on frontal faces: they block
    assert q.capture_limits() == (25.0, 20.0, 12.0, 0.45)


def test_unset_capture_limits_follow_a_widened_reporting_limit() -> None:
    # A config written before capture limits existed (roll widened to 15) must still start.
    q = QualityConfig(max_roll_deg=15.0, min_light_balance=0.4, max_yaw_deg=30.0)
    assert q.capture_limits() == (30.0, 20.0, 15.0, 0.4)


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('advisory = ["NOT_A_CODE"]', ["advisory", "NOT_A_CODE"]),
        ('advisory = ["MULTIPLE_FACES"]', ["advisory", "MULTIPLE_FACES", "always blocks"]),
        ('advisory = ["NO_FACE"]', ["advisory", "NO_FACE"]),
        ('advisory = ["OCCLUDED_FACE"]', ["advisory", "OCCLUDED_FACE", "always blocks"]),
        ('advisory = ["POSE_ROLL"]', ["advisory", "POSE_ROLL", "always blocks"]),
        ('advisory = ["BLURRY", "BLURRY"]', ["advisory", "twice"]),
        ('advisory = ["eyes_closed"]', ["advisory", "eyes_closed"]),
        ("capture_max_roll_deg = 8.0", ["capture_max_roll_deg", "reporting limit"]),
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
    assert len(msg.strip().splitlines()) == 1, msg  # one line, naming the key
    for w in words:
        assert w in msg, msg


def test_advisory_can_be_emptied_so_every_check_blocks(tmp_path: Path, landmarker: FaceLandmarker) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[quality]\nadvisory = []\n")
    cfg = load_config(path)
    strict = QualityGate(cfg.quality, landmarker, skip=RESEARCH_SKIP)
    v = strict.analyze(quality_image("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg"))
    assert not v.passed and C.EYES_CLOSED in v.failures and v.advisories == []


def test_closed_eyes_are_reported_but_do_not_block(gate: QualityGate, landmarker: FaceLandmarker) -> None:
    img = quality_image("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg")
    v = gate.analyze(img)
    assert v.passed and not v.clean and v.instruction is None
    assert v.advisories == [C.EYES_CLOSED] and v.reported == [C.EYES_CLOSED]
    eyes = v.check(C.EYES_CLOSED)
    assert eyes is not None and not eyes.passed and not eyes.blocking
    record = v.to_dict()
    assert record["advisories"] == [C.EYES_CLOSED]
    assert {c["code"]: c["blocking"] for c in record["checks"]}[C.EYES_CLOSED] is False
    assert all(c["blocking"] is None for c in record["checks"] if c["passed"])  # no decision on a passed check
    # The same frame scored as if it were clean sits >= 0.5; with the advisory it sits below every clean frame.
    plain = QualityGate(QualityConfig(min_eye_openness=0.01), landmarker, skip=RESEARCH_SKIP).analyze(img)
    assert plain.clean and plain.quality >= 0.5 > v.quality


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


def test_a_face_nested_inside_the_face_is_not_a_second_face_on_stills(gate: QualityGate) -> None:
    # ORL s14: the landmarker also meshes the eye region as a "face" inside the face box.
    img = shared_image("match_clean/orl_att-s14/2.png")
    v = gate.analyze(img)
    assert v.n_faces == 1 and C.MULTIPLE_FACES not in v.failures, v.failures
    # Two people side by side still count as two.
    two = gate.analyze(shared_image("match_clean/face_recognition_examples-obama/obama1.jpg"))
    assert two.n_faces == 2 and C.MULTIPLE_FACES in two.failures


def _paste_face_onto_face(share: float) -> np.ndarray:
    """Another person's face, ``share`` of the member's face width, held up inside the member's face box."""
    host = shared_image("live/clm_franck/ref.jpg")
    other = shared_image("live/fsw_bernard3073_data1/ref.jpg")
    with FaceLandmarker(mode="image", max_faces=3) as lm:
        hf, of = lm.detect(host)[0], lm.detect(other)[0]
    x0, y0, x1, y1 = (int(v) for v in hf.bbox)
    ox0, oy0, ox1, oy1 = (int(v) for v in of.bbox)
    pad = (ox1 - ox0) // 4
    crop = other[max(oy0 - pad, 0) : oy1 + pad, max(ox0 - pad, 0) : ox1 + pad]
    tw = int((x1 - x0) * share)
    th = int(crop.shape[0] * tw / crop.shape[1])
    img = host.copy()
    px, py = x0 + int(0.3 * (x1 - x0)) - tw // 2, y0 + int(0.6 * (y1 - y0)) - th // 2
    px, py = max(0, min(px, img.shape[1] - tw)), max(0, min(py, img.shape[0] - th))
    img[py : py + th, px : px + tw] = cv2.resize(crop, (tw, th))
    return img


def test_a_second_persons_face_held_inside_the_face_still_counts(landmarker: FaceLandmarker) -> None:
    """A hostile review pasted another face at 65% of the member's width inside the face box: it must count."""
    gate = QualityGate(QualityConfig(), landmarker, skip=("FACE_TOO_SMALL", "FACE_OFF_CENTER", "FACE_TOO_CLOSE"))
    img = _paste_face_onto_face(0.65)
    assert len(landmarker.detect(img)) >= 2
    assert C.MULTIPLE_FACES in gate.analyze(img).failures  # still image: not small enough to be a re-mesh
    # In a stream (timestamps: the terminal's sessions) every face the landmarker meshes counts, however small
    # or nested; an image-mode landmarker ignores the timestamp, so the faces seen are the same.
    for share in (0.65, 0.4):
        img = _paste_face_onto_face(share)
        meshed = len(landmarker.detect(img))
        gate.reset()
        v = gate.analyze(img, timestamp_s=1.0)
        assert v.n_faces >= meshed, (share, v.n_faces, meshed)
        if meshed >= 2:
            assert C.MULTIPLE_FACES in v.failures


def _face(box: tuple[float, float, float, float], eyes: float = 30.0) -> FaceObservation:
    return flat_face(bbox=box, inter_eye_px=eyes)


def test_count_faces_drops_only_small_nested_boxes_on_stills() -> None:
    big = _face((0, 0, 100, 100), eyes=40.0)
    assert count_faces([big, _face((40, 20, 70, 50), eyes=12.0)]) == 1  # small, inside the face
    assert count_faces([big, _face((10, 10, 75, 75), eyes=17.0)]) == 2  # inside but large: a held-up face
    assert count_faces([big, _face((90, 0, 190, 100), eyes=40.0)]) == 2  # beside it, touching
    assert count_faces([_face((40, 20, 70, 50), eyes=12.0), big]) == 1  # order does not matter
    assert count_faces([big, _face((40, 20, 70, 50), eyes=12.0)], still=False) == 2  # streams: every face
    assert count_faces([]) == 0
