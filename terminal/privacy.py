"""Biometric data stays private: owner-only face images, and no face, embedding or landmark in any log line.

Frames are biometric data. The daemon writes none unless ``[terminal] keep_images = true``; the technician's
commands that write faces on purpose (``record``, ``analyze --annotate``, ``diagnose --snapshot``) go through
here too, so a shell's umask 022 cannot leave a face readable by every user of the machine. Every log handler
(stderr and the journal) carries :class:`BiometricGuard`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` owner-only (0600) whatever the umask or the file's old mode; SourceError on failure."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)  # an existing file keeps its old mode through O_CREAT: set it
            fh.write(data)
    except OSError as err:
        raise SourceError(f"{path}: cannot write: {err.strerror or err}") from None


def write_image(path: Path, image_bgr: np.ndarray, params: list[int] | None = None) -> None:
    """Encode ``image_bgr`` by the file's suffix and write it owner-only (0600); SourceError on failure."""
    import cv2  # here, not at the top: the log guard below must not load OpenCV into every process

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


# Field names that smell of biometric payloads; such values never reach a log line, whatever they hold.
_BIOMETRIC_KEY = re.compile(
    r"EMBED|IMAGE|IMG|PIXEL|LANDMARK|TEMPLATE|FACE_?CROP|CROP|DESCRIPTOR|VECTOR|REFERENCE|PHOTO|SELFIE|"
    r"BIOMETRIC|FRAME_DATA|SNAPSHOT",
    re.IGNORECASE,
)
_MAX_NUMBERS = 16  # a list of more numbers than this looks like an embedding or landmarks
REDACTED = "<redacted>"


def looks_biometric(value: Any) -> bool:
    """True for values that may carry a face, an embedding or landmarks: arrays, raw bytes, long number lists."""
    if isinstance(value, np.ndarray | bytes | bytearray | memoryview):
        return True
    if isinstance(value, list | tuple) and len(value) > _MAX_NUMBERS:
        return all(isinstance(v, int | float | np.number | list | tuple) for v in value[: _MAX_NUMBERS + 1])
    return False


def _redact_value(value: Any) -> Any:
    return f"{REDACTED} {type(value).__name__}" if looks_biometric(value) else value


class BiometricGuard(logging.Filter):
    """Redacts biometric-looking data from a record before any handler formats it.

    Arguments of the message (``log.info("emb %s", embedding)``) and ``extra={"journal": {...}}`` fields
    whose value is an array, raw bytes or a long number list, or whose name says embedding/image/landmarks/
    template/..., are replaced by ``<redacted ...>``; the record gets ``REDACTED=<names>`` so that the slip
    is visible and can be fixed. The log line itself is kept: losing an error message is worse.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place and always keep the record."""
        redacted: list[str] = []
        if isinstance(record.msg, np.ndarray | bytes | bytearray | memoryview):
            record.msg = f"{REDACTED} {type(record.msg).__name__}"
            redacted.append("msg")
        args = record.args
        if isinstance(args, tuple) and any(looks_biometric(a) for a in args):
            record.args = tuple(_redact_value(a) for a in args)
            redacted.append("args")
        elif isinstance(args, Mapping) and any(looks_biometric(v) for v in args.values()):
            record.args = {k: _redact_value(v) for k, v in args.items()}
            redacted.append("args")
        fields = getattr(record, "journal", None)
        if isinstance(fields, Mapping):
            clean: dict[str, Any] = {}
            for key, value in fields.items():
                if _BIOMETRIC_KEY.search(str(key)) or looks_biometric(value):
                    clean[str(key)] = REDACTED
                    redacted.append(str(key))
                else:
                    clean[str(key)] = value
            record.journal = clean
        if redacted:
            # Merge: the guard may run twice (handler and root set-up) and must not forget the first pass.
            record.redacted = sorted(set(getattr(record, "redacted", ())) | set(redacted))
        return True
