"""Fixtures shared by all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.broker import mosquitto_factory  # noqa: F401  (fixture: a real mosquitto on loopback)
from tests.support.shared import data, shared_root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared/data directory (fails under CI=true when missing)."""
    return data(".")


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The shared/models directory."""
    from tests.support.shared import require

    return require(shared_root() / "models", "shared models")
