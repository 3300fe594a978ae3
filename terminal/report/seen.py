"""Request ids already served, kept on disk so a command re-delivered after a restart does not run twice.

MQTT delivers commands at least once: with a persistent session the broker re-sends a QoS 1 command whose
PUBACK it never saw, and that happens precisely when the terminal crashed or lost power mid-command. An
in-memory cache forgets across that restart; this one does not.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal.report.errors import OutboxError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    request_id TEXT PRIMARY KEY,
    expires REAL NOT NULL,          -- wall-clock epoch seconds: monotonic time does not survive a restart
    reply TEXT                      -- the reply sent, re-sent on a re-delivery (no payloads, no templates)
);
CREATE INDEX IF NOT EXISTS seen_expires ON seen (expires);
"""


class SeenRequests:
    """A small SQLite table of request ids with an expiry, bounded to ``max_entries`` rows."""

    def __init__(self, path: Path, max_entries: int = 10000, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a served id must survive the power loss that re-sends it
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as err:
            raise OutboxError(f"{self.path}: cannot open the request-id store: {err}") from None

    def get(self, request_id: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, stored reply or None) when ``request_id`` was served and has not expired."""
        with self._lock:
            row = self._db.execute("SELECT expires, reply FROM seen WHERE request_id=?", (request_id,)).fetchone()
        if row is None or row[0] <= self._clock():
            return False, None
        return True, json.loads(row[1]) if row[1] else None

    def add(self, request_id: str, ttl_s: float) -> None:
        """Record ``request_id`` as served until now + ``ttl_s``."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO seen (request_id, expires, reply) VALUES (?, ?, NULL)",
                             (request_id, self._clock() + ttl_s))
            self._writes += 1
            if self._writes % 100 == 0:
                self._prune()

    def set_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        """Store the reply sent for ``request_id``."""
        with self._lock:
            self._db.execute("UPDATE seen SET reply=? WHERE request_id=?",
                             (json.dumps(reply, separators=(",", ":")), request_id))

    def count(self) -> int:
        """Rows stored (expired ones included until the next prune)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def _prune(self) -> None:
        self._db.execute("DELETE FROM seen WHERE expires <= ?", (self._clock(),))
        self._db.execute("DELETE FROM seen WHERE request_id IN (SELECT request_id FROM seen ORDER BY expires DESC "
                         "LIMIT -1 OFFSET ?)", (self.max_entries,))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
