"""Each check on real images that must pass and images that must fail, plus cases derived in the test."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from terminal.analysis.gate import QualityGate
from terminal.analysis.landmarker import FaceLandmarker
from terminal.analysis.settings import QualityConfig
from tests.analysis.conftest import quality_image, shared_image

GOOD = ("ok", "yalefaces__subject01__normal.jpg")


def good() -> np.ndarray:
    return quality_image(*GOOD)


def test_good_frontal_face_passes_every_check(gate: QualityGate) -> None:
    v = gate.analyze(good())
    assert v.passed, v.failures
    assert v.failures == [] and v.instruction is None and v.n_faces == 1
    assert {c.code for c in v.checks} >= {
        "POSE_YAW",
        "EYES_CLOSED",
        "DARK_GLASSES",
        "GLARE_ON_GLASSES",
        "OCCLUDED_GLASSES",
        "TOO_DARK",
        "BLURRY",
    }
    assert all(c.passed for c in v.checks)
    assert 0.5 <= v.quality <= 1.0 and v.face_luma is not None and 60 < v.face_luma < 200
    d = v.to_dict()
    assert "landmarks" not in str(d) and d["passed"] is True


@pytest.mark.parametrize(
    ("folder", "name", "code"),
    [
        ("POSE_YAW", "cmu_faces__ch4f__ch4f_left_neutral_open.png", "POSE_YAW"),
        ("POSE_PITCH", "cmu_faces__an2i__an2i_up_neutral_open.png", "POSE_PITCH"),
        ("POSE_ROLL", "yalefaces__subject02__normal.png", "POSE_ROLL"),
        ("EYES_CLOSED", "yalefaces__subject03__sleepy.jpg", "EYES_CLOSED"),
        ("EYES_CLOSED", "yalefaces__subject04__wink.jpg", "EYES_CLOSED"),
        ("OCCLUDED_GLASSES", "cmu_faces__an2i__an2i_straight_neutral_sunglasses.png", "DARK_GLASSES"),
        ("OCCLUDED_GLASSES", "yalefaces__subject03__glasses.jpg", "DARK_GLASSES"),
        ("OCCLUDED_FACE", "conditions__mask__19-with-mask.jpg", "OCCLUDED_FACE"),  # white mask: face mean luma 212
        (
            "TOO_BRIGHT",
            "cmu_faces__kawamura__kawamura_straight_neutral_open.png",
            "TOO_BRIGHT",
        ),  # found by the third look
        ("OCCLUDED_FACE", "conditions__mask__0-with-mask.jpg", "OCCLUDED_FACE"),
        ("UNEVEN_LIGHT", "extyaleb_cropped__yaleB01__yaleB01_P00A+070E+00.png", "UNEVEN_LIGHT"),
        ("TOO_BRIGHT", "yalefaces__subject01__normal.png", "TOO_BRIGHT"),
        ("TOO_DARK", "yalefaces__subject01__noglasses.png", "TOO_DARK"),
        ("TOO_DARK", "extyaleb_cropped__yaleB01__yaleB01_P00_Ambient.png", "TOO_DARK"),
        ("BLURRY", "synthetic_motion_blur__yalefaces__subject02__centerlight_mblur_len17_ang0.png", "BLURRY"),
        ("NO_FACE", "conditions__no_face__skimage_coffee.jpg", "NO_FACE"),
        ("MULTIPLE_FACES", "conditions__multi_face__3ddfa_emma.jpg", "MULTIPLE_FACES"),
    ],
)
def test_real_failure_images_fail_with_their_code(gate: QualityGate, folder: str, name: str, code: str) -> None:
    v = gate.analyze(quality_image(folder, name))
    assert code in v.reported, (name, v.failures, v.advisories)
    if code in gate.config.advisory:  # seen and reported, but it costs matching nothing: no capture is blocked
        assert code in v.advisories and code not in v.failures
    else:
        assert not v.passed
        assert code in v.failures, (name, v.failures)
        assert v.instruction in v.failures


def test_derived_roll_fails_and_small_roll_passes(gate: QualityGate) -> None:
    img = good()
    h, w = img.shape[:2]

    def rotate(deg: float) -> np.ndarray:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
        return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)

    assert "POSE_ROLL" in gate.analyze(rotate(25)).failures
    assert "POSE_ROLL" in gate.analyze(rotate(-25)).failures
    assert gate.analyze(rotate(4)).check("POSE_ROLL").passed  # type: ignore[union-attr]


def test_derived_darkening_and_brightening(gate: QualityGate) -> None:
    img = good().astype(np.float32)
    dark = np.clip(img * 0.15, 0, 255).astype(np.uint8)
    bright = np.clip(img * 2.6 + 40, 0, 255).astype(np.uint8)
    assert "TOO_DARK" in gate.analyze(dark).failures
    assert "TOO_BRIGHT" in gate.analyze(bright).failures
    assert gate.analyze(np.clip(img * 1.1, 0, 255).astype(np.uint8)).passed


def test_derived_half_shadow_is_uneven_light(gate: QualityGate) -> None:
    img = good().copy()
    v = gate.analyze(img)
    assert v.face is not None
    mid = int(v.face.center[0])
    img[:, :mid] = (img[:, :mid].astype(np.float32) * 0.3).astype(np.uint8)
    assert "UNEVEN_LIGHT" in gate.analyze(img).failures  # 30% on one half: below the capture limit 0.45, it blocks


def test_derived_motion_blur_fails_and_mild_smoothing_passes(gate: QualityGate) -> None:
    img = good()
    kernel = np.zeros((15, 15), np.float32)
    kernel[7, :] = 1 / 15
    assert "BLURRY" in gate.analyze(cv2.filter2D(img, -1, kernel)).failures
    assert gate.analyze(cv2.GaussianBlur(img, (3, 3), 0.5)).check("BLURRY").passed  # type: ignore[union-attr]


def test_blur_measure_does_not_depend_on_resolution(gate: QualityGate) -> None:
    img = good()
    big = cv2.resize(img, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    a = gate.analyze(img).check("BLURRY")
    b = gate.analyze(big).check("BLURRY")
    assert a is not None and b is not None and a.passed and b.passed
    assert abs(a.value - b.value) / a.value < 0.25  # type: ignore[operator]


def test_mild_motion_blur_fails(gate: QualityGate) -> None:
    # A 9 px horizontal motion blur on a 320x243 Yale face (about 5 px at the canonical scale): the sigma-2
    # re-blur ratio read 1.20-1.29 on such images, inside the sharp range; the sigma-1 ratio reads <= 1.10.
    kernel = np.zeros((9, 9), np.float32)
    kernel[4, :] = 1 / 9
    for name in ("yalefaces__subject01__normal.jpg", "yalefaces__subject07__normal.jpg"):
        img = quality_image("ok", name)
        assert gate.analyze(img).check("BLURRY").passed  # type: ignore[union-attr]
        blurred = gate.analyze(cv2.filter2D(img, -1, kernel)).check("BLURRY")
        assert blurred is not None and not blurred.passed, name


def test_small_sharp_face_is_not_judged_on_its_enlargement(gate: QualityGate) -> None:
    # A 128x120 CMU face (eye distance ~15 px) is enlarged about 2x into the canonical crop, whose interpolation
    # blurs it (sigma-2 ratio 1.19 there: it failed); sharpness is measured at its own scale instead, where it
    # passes, and a 5 px motion blur of it still fails.
    img = quality_image("ok", "cmu_faces__kawamura__kawamura_straight_neutral_open.png")
    v = gate.analyze(img)
    assert v.passed, v.failures
    kernel = np.zeros((5, 5), np.float32)
    kernel[2, :] = 1 / 5
    assert "BLURRY" in gate.analyze(cv2.filter2D(img, -1, kernel)).failures


def test_pasted_second_face_is_multiple_faces(gate: QualityGate) -> None:
    img = good()
    other = quality_image("ok", "yalefaces__subject05__normal.jpg")
    canvas = np.concatenate([img, other], axis=1)
    v = gate.analyze(canvas)
    assert "MULTIPLE_FACES" in v.failures and v.n_faces == 2


def test_occluded_lower_face_with_colour_patch(gate: QualityGate) -> None:
    img = shared_image("conditions/single_face/mpl_grace_hopper.jpg")
    base = gate.analyze(img)
    assert base.face is not None and base.check("OCCLUDED_FACE").passed  # type: ignore[union-attr]
    x0, _y0, x1, y1 = (int(v) for v in base.face.bbox)
    covered = img.copy()
    nose_y = int(base.face.landmarks[1, 1])
    covered[nose_y:y1, x0:x1] = (90, 150, 210)  # a light-blue surgical mask over nose tip to chin
    assert "OCCLUDED_FACE" in gate.analyze(covered).failures


def test_wink_derived_by_erasing_one_eye_fails(gate: QualityGate) -> None:
    assert "EYES_CLOSED" in gate.analyze(quality_image("EYES_CLOSED", "yalefaces__subject10__wink.jpg")).reported
    assert gate.analyze(good()).check("EYES_CLOSED").passed  # type: ignore[union-attr]


def test_framing_checks_on_a_terminal_sized_frame(full_gate: QualityGate) -> None:
    face = good()  # 320x243 with the face in the middle
    frame = cv2.copyMakeBorder(face, 118, 119, 160, 160, cv2.BORDER_REPLICATE)  # 640x480, face ~50 px IED
    v = full_gate.analyze(frame)
    assert v.check("FACE_TOO_SMALL").passed and v.check("FACE_OFF_CENTER").passed  # type: ignore[union-attr]
    tiny = cv2.resize(frame, (448, 336), interpolation=cv2.INTER_AREA)  # eyes ~35 px apart: too far
    tiny = cv2.copyMakeBorder(tiny, 72, 72, 96, 96, cv2.BORDER_REPLICATE)
    assert "FACE_TOO_SMALL" in full_gate.analyze(tiny).failures
    shifted = np.roll(frame, 230, axis=1)
    assert "FACE_OFF_CENTER" in full_gate.analyze(shifted).failures
    close = cv2.resize(face[40:200, 90:230], (640, 480), interpolation=cv2.INTER_CUBIC)
    assert "FACE_TOO_CLOSE" in full_gate.analyze(close).failures


def test_dark_frame_without_face_says_too_dark(full_gate: QualityGate) -> None:
    v = full_gate.analyze(np.full((480, 640, 3), 8, np.uint8))
    assert v.failures == ["NO_FACE", "TOO_DARK"] and v.instruction == "TOO_DARK" and v.face is None


def test_skip_turns_checks_off(landmarker: FaceLandmarker) -> None:
    g = QualityGate(QualityConfig(), landmarker, skip=["POSE_ROLL", "FACE_TOO_SMALL"])
    v = g.analyze(quality_image("POSE_ROLL", "yalefaces__subject02__normal.png"))
    assert v.check("POSE_ROLL") is None and "POSE_ROLL" not in v.failures
    with pytest.raises(ValueError):
        QualityGate(QualityConfig(), landmarker, skip=["NOT_A_CODE"])


def test_priority_picks_pose_before_light(gate: QualityGate) -> None:
    img = good()
    h, w = img.shape[:2]
    rot = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 25, 1.0), (w, h), borderMode=cv2.BORDER_REPLICATE)
    dark = (rot.astype(np.float32) * 0.25).astype(np.uint8)
    v = gate.analyze(dark)
    assert v.failures.index("POSE_ROLL") < v.failures.index("TOO_DARK")
    assert v.instruction == "POSE_ROLL" and v.quality < 0.5
