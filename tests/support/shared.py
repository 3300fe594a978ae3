"""Locate ../shared (data and models) for tests; under CI=true a missing file fails instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_root() -> Path:
    """$TERMINAL_SHARED, else ../shared beside the checkout."""
    env = os.environ.get("TERMINAL_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def require(path: Path, what: str) -> Path:
    """Return ``path`` if it exists; else skip (developer laptop) or fail (CI=true)."""
    if path.exists():
        return path
    msg = f"{what} not found at {path} (set TERMINAL_SHARED or put shared/ beside the checkout)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def data(rel: str) -> Path:
    """A path under shared/data, required."""
    return require(shared_root() / "data" / rel, f"shared data '{rel}'")
