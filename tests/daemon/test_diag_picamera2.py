"""``terminal diagnose`` (versions check) reports a picamera2 that does not import, with the fix.

In-process, so a pure-Python stand-in raises the Bookworm error here; the real C-extension failure (a numpy-1
simplejpeg under numpy 2) is reproduced in tests/camera/test_picamera2_layout.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from terminal.diagnostics.system import check_versions, picamera2_problem

ABI_ERROR = (
    "numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject"
)


def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    pkg = tmp_path / "picamera2"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)


@pytest.mark.slow  # check_versions imports mediapipe and both TFLite runtimes
def test_bookworm_abi_error_is_reported_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch, f"raise ValueError({ABI_ERROR!r})\n")
    problem = picamera2_problem(on_pi=True)
    assert problem is not None
    assert problem.startswith("picamera2: ValueError: numpy.dtype size changed")
    assert "re-run ./setup.sh" in problem and "simplejpeg" in problem
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    result = check_versions()
    assert result.status == "fail" and "numpy.dtype size changed" in result.summary


def test_working_picamera2_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(tmp_path, monkeypatch, "class Picamera2:\n    pass\n")
    assert picamera2_problem(on_pi=True) is None


def test_missing_picamera2_matters_only_on_a_pi(monkeypatch: pytest.MonkeyPatch) -> None:
    assert picamera2_problem(on_pi=False) is None  # not installed on this machine, and not a Pi
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails with ImportError
    problem = picamera2_problem(on_pi=True)
    assert problem is not None and "python3-picamera2" in problem
