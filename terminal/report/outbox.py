"""The durable result outbox: SQLite (WAL, synchronous=FULL); a row is deleted only on the broker's ack.

Policy when full (``OutboxConfig.policy``):

- ``refuse_new`` (default): nothing is ever dropped. From ``max_rows``/``max_bytes`` on, ``accepting()`` is
  False and the session refuses to start new sessions (the member is told the terminal is out of service);
  results of sessions already running are still stored up to ``reserve_rows`` more rows. Only past that hard
  ceiling does ``put`` raise OutboxFullError (the disk is protected). CRITICAL in the journal, alarm in health.
- ``drop_oldest``: ``put`` always succeeds and deletes the oldest rows to make room; every dropped result id
  is logged at ERROR and counted in ``dropped_total`` (health alarm). For sites that prefer serving members.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from terminal.report.errors import OutboxError, OutboxFullError, StorageError
from terminal.report.sqlitefile import private_file

log = logging.getLogger(__name__)

Policy = Literal["refuse_new", "drop_oldest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- AUTOINCREMENT: ids never reused, so id order is put order
    result_id TEXT NOT NULL UNIQUE,
    topic_suffix TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    hold_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- accepted requests (terminal.report.ledger); a result marks its request answered in the same transaction
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    result_id TEXT NOT NULL,
    state TEXT NOT NULL,            -- accepted | answered
    accepted_at REAL NOT NULL,
    answered_at REAL,
    info TEXT NOT NULL              -- JSON: member_ref, deadline, timeout_s, ... (never a template)
);
"""


@dataclass(frozen=True)
class OutboxItem:
    """One stored message waiting for the broker's acknowledgement."""

    row_id: int
    result_id: str
    topic_suffix: str
    payload: bytes
    created: float
    attempts: int
    last_error: str | None
    hold_until: float

    def payload_dict(self) -> dict[str, Any]:
        """The payload decoded from JSON."""
        obj = json.loads(self.payload)
        return obj if isinstance(obj, dict) else {"value": obj}


class Outbox:
    """A bounded, ordered, crash-safe queue of results; thread-safe, and safe to open from a second process."""

    def __init__(
        self,
        path: Path,
        max_rows: int = 10000,
        max_bytes: int = 64 * 1024 * 1024,
        policy: Policy = "refuse_new",
        *,
        reserve_rows: int = 50,
        warn_fraction: float = 0.8,
    ) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.policy = policy
        self.reserve_rows = reserve_rows
        self.warn_fraction = warn_fraction
        self._lock = threading.RLock()
        try:
            private_file(self.path)
            # isolation_level=None: we issue BEGIN IMMEDIATE/COMMIT ourselves, so a put is one durable txn.
            self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsynced at every commit, so a returned put survives power loss.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=10000")
            # Deleted rows are zeroed, not left in free pages: a start request carries a member's NIK/KPJ.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as err:
            raise OutboxError(f"{self.path}: cannot open outbox database: {err}") from None

    @classmethod
    def from_config(cls, cfg: Any, state_dir: Path) -> Outbox:
        """Open the outbox described by an ``OutboxConfig`` (path defaults to <state_dir>/outbox.sqlite)."""
        path = cfg.path or Path(state_dir) / "outbox.sqlite"
        return cls(
            path,
            cfg.max_rows,
            cfg.max_bytes,
            cfg.policy,
            reserve_rows=cfg.reserve_rows,
            warn_fraction=cfg.warn_fraction,
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction (BEGIN IMMEDIATE ... COMMIT, fsynced); StorageError if it fails."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as err:  # disk full, I/O error: nothing was stored
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise StorageError(f"{self.path}: outbox write failed: {err}") from None

    _txn = transaction

    def put(
        self, result_id: str, topic_suffix: str, payload: dict[str, Any] | bytes, *, answers: str | None = None
    ) -> int:
        """Store a message durably (fsynced before return) and return its row id; idempotent per result id.

        ``answers``: the accepted request this result answers; marked answered in the same transaction, so a
        crash leaves either both or neither (terminal.report.ledger).
        """
        # bytes are stored and sent exactly as given: a signed result must never be re-encoded
        data = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        )
        with self._txn() as db:
            if answers is not None:
                db.execute(
                    "UPDATE requests SET state='answered', answered_at=? WHERE request_id=? AND state='accepted'",
                    (time.time(), answers),
                )
            row = db.execute("SELECT id FROM outbox WHERE result_id=?", (result_id,)).fetchone()
            if row:
                return int(row[0])
            rows, size = db.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)),0) FROM outbox").fetchone()
            if rows + 1 > self.max_rows or size + len(data) > self.max_bytes:
                if self.policy == "drop_oldest":
                    self._drop_oldest(db, rows, size, len(data))
                elif rows + 1 > self.max_rows + self.reserve_rows or size + len(data) > self.max_bytes * 1.1:
                    log.critical(
                        "outbox full (%d rows, %d bytes): result %s refused; broker unreachable too long",
                        rows,
                        size,
                        result_id,
                    )
                    raise OutboxFullError(f"outbox full ({rows} rows, {size} bytes): result {result_id} not stored")
                else:
                    log.error(
                        "outbox past its bound (%d rows, %d bytes): storing %s from the reserve; "
                        "new sessions are refused",
                        rows,
                        size,
                        result_id,
                    )
            cur = db.execute(
                "INSERT INTO outbox(result_id, topic_suffix, payload, created) VALUES (?,?,?,?)",
                (result_id, topic_suffix, data, time.time()),
            )
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('put_total', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )
            return int(cur.lastrowid or 0)

    def _drop_oldest(self, db: sqlite3.Connection, rows: int, size: int, need: int) -> None:
        dropped: builtins.list[str] = []
        for row_id, rid, length in db.execute(
            "SELECT id, result_id, LENGTH(payload) FROM outbox ORDER BY id"
        ).fetchall():
            if rows + 1 <= self.max_rows and size + need <= self.max_bytes:
                break
            db.execute("DELETE FROM outbox WHERE id=?", (row_id,))
            rows, size = rows - 1, size - length
            dropped.append(rid)
        if dropped:
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('dropped_total', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                (len(dropped),),
            )
            log.error("outbox full: policy drop_oldest dropped %d result(s): %s", len(dropped), ", ".join(dropped))

    def pending(self, limit: int = 100, *, now: float | None = None, after: int = 0) -> builtins.list[OutboxItem]:
        """Up to ``limit`` messages in put order (id > ``after``), skipping those held after a refusal."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT id, result_id, topic_suffix, payload, created, attempts, last_error, hold_until FROM outbox "
                "WHERE id > ? AND hold_until <= ? ORDER BY id LIMIT ?",
                (after, now, limit),
            ).fetchall()
        return [OutboxItem(*r) for r in rows]

    def list(self, limit: int | None = None) -> builtins.list[OutboxItem]:
        """Every stored message in order (held ones too)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, result_id, topic_suffix, payload, created, attempts, last_error, hold_until FROM outbox "
                "ORDER BY id LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [OutboxItem(*r) for r in rows]

    def ack(self, row_id: int) -> bool:
        """Delete a message the broker acknowledged; False if it was already gone."""
        return self.ack_many([row_id]) > 0

    def ack_many(self, row_ids: Sequence[int]) -> int:
        """Delete several acknowledged messages in one transaction (one fsync); returns how many were there."""
        scrub = False
        with self._txn() as db:
            n = 0
            for row_id in row_ids:
                gone = db.execute("DELETE FROM outbox WHERE id=? RETURNING topic_suffix", (row_id,)).fetchall()
                n += len(gone)
                scrub = scrub or any(r[0] == "request" for r in gone)
            if n:
                db.execute(
                    "INSERT INTO meta(key, value) VALUES ('acked_total', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                    (n,),
                )
        if scrub:  # a start request carried a member's number: secure_delete does not scrub the WAL's frames
            self._truncate_wal()
        return n

    def withdraw(self, row_id: int) -> bool:
        """Delete an unsent message that is no longer wanted (not counted as acked) and truncate the WAL."""
        with self._txn() as db:
            gone = db.execute("DELETE FROM outbox WHERE id=?", (row_id,)).rowcount > 0
        self._truncate_wal()
        return gone

    def _truncate_wal(self) -> None:
        """Checkpoint and truncate the WAL so deleted rows' old page images leave the disk (best effort)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def mark_failed(self, row_id: int, error: str, hold_s: float) -> None:
        """Record a refusal (e.g. PUBACK 135) and hold the message back for ``hold_s`` seconds; it is kept."""
        with self._txn() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, hold_until = ? WHERE id = ?",
                (error, time.time() + hold_s, row_id),
            )

    def retry(self, row_ids: Sequence[int] | None = None) -> int:
        """Release held messages (all, or the given ids) for immediate re-sending; returns how many."""
        with self._txn() as db:
            if row_ids is None:
                cur = db.execute(
                    "UPDATE outbox SET hold_until = 0, last_error = NULL WHERE hold_until > 0 OR last_error IS NOT NULL"
                )
            else:
                cur = db.executemany(
                    "UPDATE outbox SET hold_until = 0, last_error = NULL WHERE id = ?", [(i,) for i in row_ids]
                )
            return cur.rowcount

    def purge(
        self, row_ids: Sequence[int] | None = None, *, older_than_s: float | None = None, all_rows: bool = False
    ) -> builtins.list[str]:
        """Delete messages on an operator's explicit request; returns (and logs) the result ids removed."""
        if row_ids is None and older_than_s is None and not all_rows:
            raise OutboxError("purge needs row ids, an age or all_rows=True")
        with self._txn() as db:
            if all_rows:
                rows = db.execute("SELECT id, result_id FROM outbox").fetchall()
            elif row_ids is not None:
                marks = ",".join("?" * len(row_ids))
                rows = db.execute(f"SELECT id, result_id FROM outbox WHERE id IN ({marks})", list(row_ids)).fetchall()
            else:
                rows = db.execute(
                    "SELECT id, result_id FROM outbox WHERE created < ?", (time.time() - (older_than_s or 0),)
                ).fetchall()
            db.executemany("DELETE FROM outbox WHERE id=?", [(r[0],) for r in rows])
            if rows:
                db.execute(
                    "INSERT INTO meta(key, value) VALUES ('purged_total', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                    (len(rows),),
                )
        ids = [r[1] for r in rows]
        if ids:
            log.warning("outbox purge by operator removed %d result(s): %s", len(ids), ", ".join(ids))
        return ids

    def count(self) -> int:
        """Messages stored."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def bytes(self) -> int:
        """Payload bytes stored."""
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(LENGTH(payload)),0) FROM outbox").fetchone()[0])

    def counter(self, key: str) -> int:
        """A lifetime counter: put_total, acked_total, dropped_total, purged_total."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def accepting(self) -> bool:
        """False when full: the session must not start a new session (refuse_new policy)."""
        if self.policy == "drop_oldest":
            return True
        return self.count() < self.max_rows and self.bytes() < self.max_bytes

    def alarm(self) -> str | None:
        """The health alarm: 'outbox_full', 'outbox_dropped', 'outbox_rejected', 'outbox_high' or None."""
        rows, size = self.count(), self.bytes()
        if rows >= self.max_rows or size >= self.max_bytes:
            return "outbox_full"
        if self.counter("dropped_total"):
            return "outbox_dropped"
        with self._lock:
            rejected = self._db.execute("SELECT COUNT(*) FROM outbox WHERE last_error IS NOT NULL").fetchone()[0]
        if rejected:
            return "outbox_rejected"
        if rows >= self.warn_fraction * self.max_rows or size >= self.warn_fraction * self.max_bytes:
            return "outbox_high"
        return None

    def stats(self) -> dict[str, Any]:
        """Depth, size, bounds, counters and alarm, for the health message."""
        return {
            "depth": self.count(),
            "bytes": self.bytes(),
            "max_rows": self.max_rows,
            "max_bytes": self.max_bytes,
            "policy": self.policy,
            "accepting": self.accepting(),
            "alarm": self.alarm(),
            "dropped_total": self.counter("dropped_total"),
            "acked_total": self.counter("acked_total"),
        }

    def close(self) -> None:
        """Close the database (pending messages stay on disk)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
