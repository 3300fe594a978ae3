"""The one place a result record is finalised before it is stored: its id, terminal id and queue time.

Everything that sends a result (the daemon's sessions, recovery of interrupted requests, the CLI) goes through
``finalise_result``; a signing step belongs here, after the record is complete and before it is stored.
"""

from __future__ import annotations

from typing import Any

from terminal.security.runtime import Security  # signs in stored_form; the link imports it from here
from terminal.stamps import new_result_id, utc_iso

__all__ = ["Security", "finalise_result", "stored_form"]


def finalise_result(record: dict[str, Any], terminal_id: str) -> dict[str, Any]:
    """The record as it is stored and sent: ``result_id`` (kept when set), ``terminal_id``, ``queued_at``."""
    payload = {**record, "result_id": str(record.get("result_id") or new_result_id())}
    payload.setdefault("terminal_id", terminal_id)
    payload.setdefault("queued_at", utc_iso())
    return payload


def stored_form(payload: dict[str, Any], security: Security | None) -> dict[str, Any] | bytes:
    """What the outbox stores and sends: the signed canonical bytes (terminal key), or the dict when unsigned."""
    return payload if security is None else security.sign_result(payload)
