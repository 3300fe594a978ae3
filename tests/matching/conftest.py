"""Fixtures for the matching tests: the real embedder and landmarker, loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from terminal.analysis.landmarker import FaceLandmarker
from terminal.camera.recording import read_image_rgb
from terminal.config import load_config
from terminal.config.schema import Config
from terminal.matching.embedder import TFLiteEmbedder, load_embedder
from terminal.matching.probe import FaceFinder
from tests.support.shared import data

OBAMA = "match_clean/face_recognition_examples-obama"
BIDEN = "match_clean/face_recognition_examples-biden"


@pytest.fixture(scope="session")
def cfg() -> Config:
    """Built-in defaults (no config file)."""
    return load_config(None, overrides={"matching.threads": 1})


@pytest.fixture(scope="session")
def embedder(cfg: Config) -> TFLiteEmbedder:
    """The default embedder, sha256-checked."""
    emb = load_embedder(cfg)
    assert isinstance(emb, TFLiteEmbedder)
    return emb


@pytest.fixture(scope="session")
def landmarker() -> Iterator[FaceLandmarker]:
    """Helper A's landmarker in IMAGE mode."""
    lm = FaceLandmarker(mode="image", max_faces=3)
    yield lm
    lm.close()


@pytest.fixture(scope="session")
def finder(landmarker: FaceLandmarker) -> FaceFinder:
    """A strict finder without the gate (the gate has its own tests)."""
    return FaceFinder(landmarker, None, strict=True)


def image(rel: str) -> np.ndarray:
    """An RGB image under shared/data."""
    return read_image_rgb(data(rel))


def image_path(rel: str) -> Path:
    """A path under shared/data."""
    return data(rel)
