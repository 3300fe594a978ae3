"""Face images written on request are owner-only, whatever the shell's umask."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from terminal.privacy import private_dir, write_image


def test_owner_only_files_and_dirs(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        d = private_dir(tmp_path / "a" / "b")
        p = d / "face.jpg"
        p.write_bytes(b"old")
        p.chmod(0o644)  # an existing world-readable file is tightened too
        write_image(p, np.zeros((8, 8, 3), np.uint8))
    finally:
        os.umask(old)
    assert d.stat().st_mode & 0o777 == 0o700
    assert p.stat().st_mode & 0o777 == 0o600
    assert p.read_bytes()[:2] == b"\xff\xd8"  # a JPEG now


def test_unwritable_is_a_terminal_error(tmp_path: Path) -> None:
    from terminal.errors import SourceError

    with pytest.raises(SourceError, match="cannot write image"):
        write_image(tmp_path / "missing-dir" / "x.png", np.zeros((4, 4, 3), np.uint8))
