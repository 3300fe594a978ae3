"""Request ids already served, kept on disk so a command re-delivered after a restart does not run twice.

MQTT delivers commands at least once: with a persistent session the broker re-sends a QoS 1 command whose
PUBACK it never saw, and that happens precisely when the terminal crashed or lost power mid-command. An
in-memory cache forgets across that restart; this one does not.

Ids are forgotten only when they expire, never to make room: an id is kept until its command's deadline
(bounded by ``mqtt.deadline_horizon_s``) and at least ``command_dedup_ttl_s``, so a captured command cannot be
replayed while it could still run. When ``max_entries`` unexpired ids are stored, new commands are refused
(OVERLOADED, temporary) instead. An id whose reply was never stored (the process died between receiving and
answering) is served again after a restart: nothing was accepted under it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from terminal.report.errors import CommandError, OutboxError, StorageError
from terminal.report.sqlitefile import private_file

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
    """A small SQLite table of request ids with an expiry; at most ``max_entries`` unexpired rows."""

    def __init__(self, path: Path, max_entries: int = 200_000, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0
        try:
            private_file(self.path)
            self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a served id must survive the power loss that re-sends it
            self._db.executescript(_SCHEMA)
            self._rows = int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])
        except (sqlite3.Error, OSError) as err:
            raise OutboxError(f"{self.path}: cannot open the request-id store: {err}") from None

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            return self._db.execute(sql, args).rowcount
        except sqlite3.Error as err:  # disk full, I/O error: the caller refuses, the link goes on
            raise StorageError(f"{self.path}: request-id store not writable: {err}") from None

    def get(self, request_id: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, reply) when ``request_id`` was answered and has not expired (a row without reply: not seen)."""
        with self._lock:
            row = self._db.execute("SELECT expires, reply FROM seen WHERE request_id=?", (request_id,)).fetchone()
        if row is None or row[0] <= self._clock() or not row[1]:
            return False, None
        return True, json.loads(row[1])

    def add(self, request_id: str, expires: float) -> None:
        """Record ``request_id`` as being served until ``expires`` (epoch s); CommandError(OVERLOADED) when full."""
        with self._lock:
            if self._rows >= self.max_entries:
                self._prune()
                if self._rows >= self.max_entries:
                    raise CommandError("OVERLOADED", f"{self._rows} unexpired request ids stored (the maximum)")
            n = self._write(
                "INSERT OR REPLACE INTO seen (request_id, expires, reply) VALUES (?, ?, NULL)", (request_id, expires)
            )
            self._rows += n
            self._writes += 1
            if self._writes % 500 == 0:
                self._prune()

    def set_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        """Store the reply sent for ``request_id``."""
        with self._lock:
            self._write(
                "UPDATE seen SET reply=? WHERE request_id=?", (json.dumps(reply, separators=(",", ":")), request_id)
            )

    def forget(self, request_id: str) -> None:
        """Drop ``request_id`` (after a temporary refusal: a retry with the same id must be served)."""
        with self._lock:
            self._rows -= self._write("DELETE FROM seen WHERE request_id=?", (request_id,))

    def count(self) -> int:
        """Rows stored (expired ones included until the next prune)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def _prune(self) -> None:
        try:
            self._db.execute("DELETE FROM seen WHERE expires <= ?", (self._clock(),))
            self._rows = int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])
        except sqlite3.Error as err:
            log.warning("request-id store: pruning failed: %s", err)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class DedupCache:
    """Request ids seen (in memory, backed by ``store`` on disk); remembers the reply for re-deliveries.

    In memory an id is ``None`` while its command is being handled (a re-delivery meanwhile is DUPLICATE), then
    its reply. ``forget`` drops an id after a temporary refusal so that a retry is served.
    """

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 10000,
        clock: Callable[[], float] = time.time,
        store: SeenRequests | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.store = store  # on disk: survives the restart after which a broker re-delivers a command

    def check_and_add(
        self, request_id: str, until: float | None = None, durable: bool = True
    ) -> tuple[bool, dict[str, Any] | None]:
        """(True, reply or None) if seen; else remember it until max(now + ttl, ``until``), return (False, None).

        ``durable``: a store that cannot be written raises StorageError; otherwise the id is kept in memory only.
        """
        now = self._clock()
        expires = max(now + self.ttl_s, until or 0.0)
        with self._lock:
            while self._seen:  # memory is only a fast path: the store is the authority when there is one
                oldest, (exp, _) = next(iter(self._seen.items()))
                if exp > now and len(self._seen) < self.max_entries:
                    break
                del self._seen[oldest]
            hit = self._seen.get(request_id)
            if hit is not None and hit[0] > now:
                return True, hit[1]
            if self.store is not None:
                seen, reply = self.store.get(request_id)
                if seen:
                    self._seen[request_id] = (expires, reply)
                    return True, reply
                try:
                    self.store.add(request_id, expires)
                except StorageError as err:
                    if durable:
                        raise
                    log.warning("%s; request %s de-duplicated in memory only", err, request_id)
            self._seen[request_id] = (expires, None)
            return False, None

    def remember_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        """Keep the reply of a command for re-deliveries."""
        with self._lock:
            if request_id in self._seen:
                self._seen[request_id] = (self._seen[request_id][0], reply)
                if self.store is not None:
                    try:
                        self.store.set_reply(request_id, reply)
                    except StorageError as err:
                        log.warning("%s; the reply to %s is kept in memory only", err, request_id)

    def forget(self, request_id: str) -> None:
        """Drop ``request_id``: a retry with the same id will be served."""
        with self._lock:
            self._seen.pop(request_id, None)
            if self.store is not None:
                try:
                    self.store.forget(request_id)
                except StorageError as err:
                    log.warning(
                        "%s; %s stays recorded without a reply (a retry after restart is served)", err, request_id
                    )

    def __len__(self) -> int:
        return len(self._seen)
