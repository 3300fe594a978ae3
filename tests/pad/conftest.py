"""Fixtures of the PAD tests: the configured MiniFASNet backend and a still-image face finder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terminal.config.loader import config_from_dict
from terminal.matching.probe import FaceFinder, make_finder
from terminal.pad.base import PadBackend
from terminal.pad.factory import load_pad_backend


@pytest.fixture(scope="session")
def pad_backend() -> PadBackend:
    """The MiniFASNet pair from the manifest (sha256-checked)."""
    return load_pad_backend(config_from_dict({}))


@pytest.fixture(scope="session")
def still_finder() -> Iterator[FaceFinder]:
    """Landmarker-only finder (largest face) for full frames."""
    f = make_finder(config_from_dict({}), use_gate=False, strict=False)
    yield f
    f.close()
