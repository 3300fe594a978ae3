"""Writing face images, when an operator or a setting asks for it: owner-only files, never world-readable.

Frames are biometric data. The daemon writes none unless ``[terminal] keep_images = true``; the technician's
commands that write faces on purpose (``record``, ``analyze --annotate``, ``diagnose --snapshot``) go through
here too, so a shell's umask 022 cannot leave a face readable by every user of the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from terminal.errors import SourceError

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; a directory we create is owner-only."""
    path = Path(path)
    if not path.exists():
        path.mkdir(parents=True, mode=DIR_MODE)
    return path


def write_image(path: Path, image_bgr: np.ndarray, params: list[int] | None = None) -> None:
    """Encode ``image_bgr`` by the file's suffix and write it owner-only (0600); SourceError on failure."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", image_bgr, params or [])
    if not ok:
        raise SourceError(f"{path}: cannot encode image")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.tobytes())
        os.chmod(path, FILE_MODE)  # an existing file keeps its old mode through O_CREAT: set it
    except OSError as err:
        raise SourceError(f"{path}: cannot write image: {err.strerror or err}") from None
