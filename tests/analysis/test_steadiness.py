"""UNSTEADY on a real steady clip vs the same clip with synthetic camera shake (VIDEO mode, frame time)."""

from __future__ import annotations

import numpy as np

from terminal.analysis.gate import QualityGate
from terminal.analysis.settings import QualityConfig
from terminal.camera.recording import list_images, read_image_rgb
from terminal.config import Config
from tests.support.shared import data


def _frames(n: int = 24) -> list[np.ndarray]:
    folder = data("videos/pyfeat_single_face/frames")
    return [read_image_rgb(p) for p in list_images(folder)[:n]]


def _speeds(gate: QualityGate, frames: list[np.ndarray], fps: float = 30.0) -> list[bool]:
    out = []
    for i, img in enumerate(frames):
        v = gate.analyze(img, i / fps)
        chk = v.check("UNSTEADY")
        if chk is not None:
            out.append(chk.passed)
    return out


def test_steady_clip_passes_and_shaken_clip_fails() -> None:
    frames = _frames()
    rng = np.random.default_rng(7)
    shaken = []
    for img in frames:
        dx, dy = (int(v) for v in rng.integers(-12, 13, size=2))  # hand-held shake of about +-12 px
        shaken.append(np.ascontiguousarray(np.roll(np.roll(img, dx, axis=1), dy, axis=0)))
    with QualityGate.from_config(Config(), mode="video") as gate:
        steady = _speeds(gate, frames)
        gate.reset()
        shake = _speeds(gate, shaken)
    assert len(steady) >= 15 and len(shake) >= 15
    assert sum(steady) / len(steady) >= 0.9, "a seated, talking person must count as steady"
    assert sum(shake) / len(shake) <= 0.2, "synthetic shake must be caught"


def test_stills_have_no_unsteady_check() -> None:
    gate = QualityGate.from_config(Config(), mode="image")
    img = _frames(1)[0]
    assert gate.analyze(img).check("UNSTEADY") is None
    gate.close()


def test_reset_clears_the_window() -> None:
    from terminal.analysis.steadiness import SteadinessTracker

    tracker = SteadinessTracker(QualityConfig().steady_window_s)
    gate = QualityGate.from_config(Config(), mode="image")
    face = gate.analyze(_frames(1)[0]).face
    assert face is not None
    assert tracker.update(0.0, face) is None and tracker.update(0.033, face) is None
    assert tracker.update(0.066, face) == 0.0
    tracker.reset()
    assert tracker.update(0.1, face) is None
    gate.close()
