"""The code base stays ruff- and mypy-clean (the style rules of docs/architecture.md, enforced in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_clean() -> None:
    r = run("ruff", "check", "terminal", "tests", "bench", "--output-format", "concise")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_clean() -> None:
    """`ruff format` leaves the tree unchanged (files excluded in pyproject.toml wait for their split)."""
    r = run("ruff", "format", "--check", "terminal", "tests", "bench", "tools")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean() -> None:
    r = run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr


def test_modules_are_small() -> None:
    """Small modules whose names say what they are: none of the package's modules over 400 lines."""
    big = {
        str(p.relative_to(REPO)): n
        for p in (REPO / "terminal").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert big == {}
