"""What the central system asks a session for: ``SessionRequest`` (re-exported by terminal.session.machine)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from terminal.matching.template import Template


@dataclass(frozen=True)
class SessionRequest:
    """What the central system asks for: a request id, the member's reference template, an optional deadline
    (seconds of frame time from the first frame; the session ends at ``min(deadline, session.timeout_s)``), the
    result id reserved when the request was accepted (terminal.report.ledger) and a ``member_ref`` to echo."""

    request_id: str
    reference: Template
    deadline: float | None = None
    result_id: str | None = None
    member_ref: str | None = None
