"""Glasses done right: clear glasses pass; tinted lenses, glare and heavy frames (derived here) fail."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from terminal.analysis import codes as C
from terminal.analysis.gate import QualityGate
from terminal.analysis.guidance import message
from tests.analysis.conftest import quality_image

CLEAR = [  # clear prescription glasses, which the old single check turned away
    ("OCCLUDED_GLASSES", "yalefaces__subject01__glasses.jpg"),
    ("OCCLUDED_GLASSES", "yalefaces__subject08__glasses.jpg"),  # bold black frames, eyes visible
    ("OCCLUDED_GLASSES", "cmu_faces__at33__at33_straight_neutral_open.png"),  # thin wire frames
]


def lenses(gate: QualityGate, img: np.ndarray) -> tuple[list[tuple[int, int]], int]:
    """Eye centres and the inter-eye distance of the one face in ``img``."""
    face = gate.analyze(img).face
    assert face is not None
    centres = [(round(x), round(y)) for x, y in face.eye_centers]
    return centres, round(face.inter_eye_px)


@pytest.mark.parametrize(("folder", "name"), CLEAR)
def test_clear_glasses_pass_every_glasses_check(gate: QualityGate, folder: str, name: str) -> None:
    v = gate.analyze(quality_image(folder, name))
    assert v.face is not None
    assert not C.GLASSES_CODES & set(v.failures), (name, v.failures)
    assert {c.code for c in v.checks} >= C.GLASSES_CODES


def test_tinted_lenses_are_dark_glasses(gate: QualityGate) -> None:
    img = quality_image(*CLEAR[0]).copy()
    centres, ied = lenses(gate, img)
    mask = np.zeros(img.shape[:2], np.uint8)
    for c in centres:  # lens-sized ellipses, tinted to 20% transmission
        cv2.ellipse(mask, c, (int(0.42 * ied), int(0.3 * ied)), 0, 0, 360, 255, -1)
    img[mask > 0] = (img[mask > 0] * 0.2).astype(np.uint8)
    v = gate.analyze(img)
    assert C.DARK_GLASSES in v.failures and v.instruction == C.DARK_GLASSES, v.failures


def test_glare_on_lenses(gate: QualityGate) -> None:
    img = quality_image(*CLEAR[0]).copy()
    centres, ied = lenses(gate, img)
    for x, y in centres:  # a bright reflection across each lens, over the eye
        cv2.ellipse(img, (x, y - ied // 10), (int(0.3 * ied), int(0.14 * ied)), -15, 0, 360, (255, 255, 255), -1)
    v = gate.analyze(img)
    assert C.GLARE_ON_GLASSES in v.failures, v.failures
    assert C.DARK_GLASSES not in v.failures


def test_black_wire_frames_with_clear_lenses_pass(gate: QualityGate) -> None:
    img = quality_image(*CLEAR[0]).copy()
    (rx, ry), (lx, ly) = lenses(gate, img)[0]
    ied = lx - rx
    t = max(ied // 12, 2)  # black wire rims and bridge drawn over the real frames: the eyes stay visible
    for x, y in ((rx, ry), (lx, ly)):
        cv2.rectangle(img, (x - ied // 2, y - ied // 4), (x + ied // 2, y + int(0.35 * ied)), (0, 0, 0), t)
    cv2.line(img, (rx + int(0.3 * ied), ry - ied // 8), (lx - int(0.3 * ied), ly - ied // 8), (0, 0, 0), t)
    v = gate.analyze(img)
    assert not C.GLASSES_CODES & set(v.failures), [(c.code, c.value) for c in v.checks if "GLASSES" in c.code]


def test_heavy_frames_across_the_eyes(gate: QualityGate) -> None:
    img = quality_image(*CLEAR[0]).copy()
    (rx, ry), (lx, ly) = lenses(gate, img)[0]
    ied = lx - rx
    t = max(ied // 4, 3)  # heavy black rims whose top bar crosses the upper half of the eyes, and a bridge
    for x, y in ((rx, ry), (lx, ly)):
        cv2.rectangle(img, (x - ied // 2, y - ied // 10), (x + ied // 2, y + int(0.35 * ied)), (0, 0, 0), t)
    cv2.line(img, (rx + int(0.3 * ied), ry), (lx - int(0.3 * ied), ly), (0, 0, 0), t)
    v = gate.analyze(img)
    # Frames this heavy darken the whole eye band: the gate asks for the glasses off (as dark glasses here).
    assert C.GLASSES_CODES & set(v.failures), [(c.code, c.value) for c in v.checks if "GLASSES" in c.code]


def test_each_glasses_code_has_its_own_guidance() -> None:
    texts = {message(code, lang) for code in C.GLASSES_CODES for lang in ("id", "en")}
    assert len(texts) == 6 and all(t not in C.GLASSES_CODES for t in texts)
    assert "hitam" in message(C.DARK_GLASSES, "id") and "sunglasses" in message(C.DARK_GLASSES, "en")


def test_skipping_occluded_glasses_turns_off_every_glasses_check(landmarker: object) -> None:
    from terminal.analysis.settings import QualityConfig

    gate = QualityGate(QualityConfig(), landmarker, skip=["OCCLUDED_GLASSES"])  # type: ignore[arg-type]
    v = gate.analyze(quality_image("OCCLUDED_GLASSES", "cmu_faces__an2i__an2i_straight_neutral_sunglasses.png"))
    assert not C.GLASSES_CODES & {c.code for c in v.checks}
