"""Ids and wall-clock stamps that go on the wire: one result id generator, one UTC timestamp format.

Durations inside a session use frame time; only what the central system reads (when a result started,
finished, was queued; a ping's clock) uses the wall clock, always in this one format.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime


def new_result_id() -> str:
    """A unique result id: a random uuid4, so ids never collide between terminals (the schema's format)."""
    return str(uuid.uuid4())


def utc_iso(ts: float | None = None) -> str:
    """``ts`` (epoch seconds; default now) as ISO 8601 UTC with milliseconds and a ``Z``: 2026-12-02T06:58:44.123Z."""
    when = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
