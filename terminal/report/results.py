"""The one place a result record is finalised before it is stored: its id, terminal id and queue time.

Everything that sends a result (the daemon's sessions, recovery of interrupted requests, the CLI) goes through
``finalise_result``; a signing step belongs here, after the record is complete and before it is stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """UTC time, ISO-8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_result_id(terminal_id: str) -> str:
    """A globally unique result id (terminal id + random UUID) for de-duplication on the central side."""
    return f"{terminal_id}-{uuid.uuid4().hex}"


def finalise_result(record: dict[str, Any], terminal_id: str) -> dict[str, Any]:
    """The record as it is stored and sent: ``result_id`` (kept when set), ``terminal_id``, ``queued_at``."""
    payload = {**record, "result_id": str(record.get("result_id") or new_result_id(terminal_id))}
    payload.setdefault("terminal_id", terminal_id)
    payload.setdefault("queued_at", now_iso())
    return payload
