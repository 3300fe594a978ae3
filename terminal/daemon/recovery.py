"""Results the daemon builds itself: for requests interrupted by a crash, and for sessions that failed inside.

``interrupted_record`` is a full result record (it follows terminal.session.schema) with decision ``failed``
and what is known about the request; ``recover_unanswered`` gives every request the ledger holds as accepted
without a result (the terminal died or lost power during its session) that record, before the link starts.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from terminal.errors import TerminalError
from terminal.report.ledger import AcceptedRequest, RequestLedger
from terminal.session.result import VerificationResult
from terminal.session.tally import QualityTally, Timings
from terminal.stamps import utc_iso

if TYPE_CHECKING:
    from terminal.matching.decision import Matcher
    from terminal.report.link import MqttLink

log = logging.getLogger(__name__)

INTERRUPTED = "INTERRUPTED"


def interrupted_record(
    request_id: str,
    result_id: str,
    terminal_id: str,
    matcher: Matcher | None,
    *,
    started_at: str,
    reason_code: str,
    reason: str,
    member_ref: str | None = None,
    n_reference: int = 0,
    frames: int = 0,
    reference_sha256: str | None = None,
) -> dict[str, Any]:
    """A ``failed`` result for a request whose session could not reach a decision."""
    emb = matcher.embedder if matcher is not None else None
    return VerificationResult(
        result_id=result_id,
        request_id=request_id,
        terminal_id=terminal_id,
        started_at=started_at,
        finished_at=utc_iso(),
        decision="failed",
        reason_code=reason_code,
        reason=reason,
        message=None,
        score=None,
        threshold=round(float(matcher.threshold), 4) if matcher is not None else None,
        models={
            "embedder": {"name": emb.name, "version": emb.version} if emb is not None else None,
            "landmarker": None,
            "fusion": matcher.fusion if matcher is not None else None,
        },
        n_probe=0,
        n_reference=n_reference,
        quality=QualityTally().to_dict(),
        guidance=[],
        liveness={
            "enabled": False,
            "outcome": "not_finished",
            "reason": None,
            "duration_s": None,
            "challenges": [],
            "passive": None,
            "pad": None,
            "identity": None,
            "track": None,
        },
        light=None,
        timings=Timings().to_dict(),
        frames=frames,
        member_ref=member_ref,
        reference_sha256=reference_sha256,
    ).wire()


def record_for(row: AcceptedRequest, terminal_id: str, matcher: Matcher | None) -> dict[str, Any]:
    """The INTERRUPTED result of one ledger row."""
    return interrupted_record(
        row.request_id,
        row.result_id,
        terminal_id,
        matcher,
        started_at=utc_iso(row.accepted_at),
        reason_code=INTERRUPTED,
        member_ref=row.info.get("member_ref"),
        n_reference=int(row.info.get("n_reference", 0)),
        reference_sha256=row.info.get("reference_sha256"),
        reason="the terminal restarted (crash, power loss or kill) before this session reached a decision",
    )


def recover_unanswered(ledger: RequestLedger, link: MqttLink, terminal_id: str, matcher: Matcher | None) -> int:
    """Answer every accepted request left without a result; returns how many were answered now."""
    n = 0
    for row in ledger.unanswered():
        try:
            link.publish_result(record_for(row, terminal_id, matcher), answers=row.request_id)
        except TerminalError as err:  # disk still full: stays in the ledger, answered at the next start
            log.critical(
                "request %s interrupted; its result cannot be stored yet: %s",
                row.request_id,
                err,
                extra={"journal": {"SESSION_ID": row.request_id, "RESULT": "store_failed"}},
            )
            continue
        n += 1
        log.warning(
            "request %s was interrupted by a restart: answered failed/%s (result %s)",
            row.request_id,
            INTERRUPTED,
            row.result_id,
            extra={"journal": {"SESSION_ID": row.request_id, "RESULT": "failed", "REASON": INTERRUPTED}},
        )
    try:
        ledger.prune()
    except TerminalError as err:
        log.warning("ledger prune failed: %s", err)
    return n
