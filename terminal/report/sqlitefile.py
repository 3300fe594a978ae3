"""SQLite files of the state directory (outbox, request ids): owner-only from their first byte.

SQLite creates its -wal and -shm files with the permissions of the database file, so creating the database
file 0600 before SQLite opens it keeps all three private whatever the process umask is (outside systemd a
shell's 022 would otherwise leave request ids and results readable by every user).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

FILE_MODE = 0o600


def private_file(path: Path) -> Path:
    """Create ``path`` (and its parent, 0700) owner-only if missing; tighten an existing file to 0600."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o777 != FILE_MODE:
        os.chmod(path, FILE_MODE)
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if side.exists() and side.stat().st_mode & 0o777 != FILE_MODE:
            os.chmod(side, FILE_MODE)
    return path


def is_disk_full(err: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL ("database or disk is full") and ENOSPC-like I/O failures."""
    text = str(err).lower()
    return (isinstance(err, sqlite3.Error) and ("full" in text or "disk i/o" in text)) or "no space" in text
