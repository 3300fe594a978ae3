"""Accepted requests, stored durably before ``accepted`` is replied, so every one ends with exactly one result.

The table lives in the outbox database: ``Outbox.put(..., answers=request_id)`` stores a result and marks its
request answered in one transaction. At start, every request still ``accepted`` (the process died or lost
power during its session) gets a ``failed`` result with reason ``INTERRUPTED`` under the result id reserved
when it was accepted; since the outbox is idempotent per result id, nothing is ever answered twice.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from terminal.report.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcceptedRequest:
    """One row of the ledger."""

    request_id: str
    result_id: str
    state: str
    accepted_at: float
    info: dict[str, Any]

    @property
    def answered(self) -> bool:
        """True once its result is in the outbox (or was delivered)."""
        return self.state == "answered"


class RequestLedger:
    """accept → (session) → answered, on the outbox's SQLite connection (fsynced, owner-only)."""

    def __init__(self, outbox: Outbox, keep_s: float = 2 * 86400) -> None:
        self.outbox = outbox
        self.keep_s = keep_s

    def accept(self, request_id: str, result_id: str, info: dict[str, Any]) -> AcceptedRequest:
        """Store the request durably (StorageError if the disk refuses); an existing row is returned unchanged."""
        with self.outbox.transaction() as db:
            row = self._row(db, request_id)
            if row is not None:
                return row
            now = time.time()
            db.execute(
                "INSERT INTO requests (request_id, result_id, state, accepted_at, info) VALUES (?,?,?,?,?)",
                (request_id, result_id, "accepted", now, json.dumps(info, separators=(",", ":"))),
            )
        return AcceptedRequest(request_id, result_id, "accepted", now, info)

    def get(self, request_id: str) -> AcceptedRequest | None:
        """The stored request, or None if it was never accepted (or pruned after ``keep_s``)."""
        with self.outbox._lock:
            return self._row(self.outbox._db, request_id)

    def unanswered(self) -> list[AcceptedRequest]:
        """Requests accepted without a result, oldest first (what a restart must answer)."""
        with self.outbox._lock:
            rows = self.outbox._db.execute(
                "SELECT request_id, result_id, state, accepted_at, info FROM requests WHERE state='accepted' "
                "ORDER BY accepted_at"
            ).fetchall()
        return [AcceptedRequest(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def prune(self) -> int:
        """Forget answered requests older than ``keep_s`` (longer than any deadline horizon); returns how many."""
        with self.outbox.transaction() as db:
            return db.execute(
                "DELETE FROM requests WHERE state='answered' AND answered_at < ?", (time.time() - self.keep_s,)
            ).rowcount

    def probe(self) -> None:
        """A tiny durable write: StorageError while the disk is still full (used to clear the alarm)."""
        with self.outbox.transaction() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('probe', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )

    @staticmethod
    def _row(db: Any, request_id: str) -> AcceptedRequest | None:
        r = db.execute(
            "SELECT request_id, result_id, state, accepted_at, info FROM requests WHERE request_id=?", (request_id,)
        ).fetchone()
        return None if r is None else AcceptedRequest(r[0], r[1], r[2], r[3], json.loads(r[4]))
