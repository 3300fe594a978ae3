"""Fixtures of the analysis tests: one gate per session (loading MediaPipe is the slow part)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from terminal.analysis.gate import QualityGate
from terminal.analysis.landmarker import FaceLandmarker
from terminal.analysis.settings import QualityConfig
from terminal.camera.recording import read_image_rgb
from tests.support.shared import data

RESEARCH_SKIP = ("FACE_TOO_SMALL", "FACE_TOO_CLOSE", "FACE_OFF_CENTER")


@pytest.fixture(scope="session")
def landmarker() -> Iterator[FaceLandmarker]:
    """An IMAGE-mode landmarker shared by the tests."""
    with FaceLandmarker(mode="image", max_faces=3) as lm:
        yield lm


@pytest.fixture(scope="session")
def gate(landmarker: FaceLandmarker) -> QualityGate:
    """The default gate without the framing checks (research images are small and tightly cropped)."""
    return QualityGate(QualityConfig(), landmarker, skip=RESEARCH_SKIP)


@pytest.fixture(scope="session")
def full_gate(landmarker: FaceLandmarker) -> QualityGate:
    """The default gate with every check on."""
    return QualityGate(QualityConfig(), landmarker)


def quality_image(folder: str, name: str) -> np.ndarray:
    """An image of shared/data/quality as RGB."""
    return read_image_rgb(data(f"quality/{folder}") / name)


def shared_image(rel: str) -> np.ndarray:
    """Any image under shared/data as RGB."""
    return read_image_rgb(Path(data(rel)))
