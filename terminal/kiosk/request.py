"""Start at the terminal: the member types a NIK or KPJ number; the terminal asks the central system.

The number is checked on the device (``check_number``), sent once in a ``<prefix>/request`` message (QoS 1,
through the durable outbox so a short broker outage does not lose it) and never logged. The central system
answers with the ordinary ``verify`` command carrying the same request id; the session then runs as usual
and its result carries only that request id. If no verify arrives within ``request_timeout_s``, the member
is told so and a request still waiting in the outbox is withdrawn: the number is not kept after the attempt.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from terminal.errors import TerminalError
from terminal.kiosk.wire import REQUEST_TYP, StartRequest
from terminal.security.envelope import encode_signed, sign_payload

if TYPE_CHECKING:
    from terminal.report.link import MqttLink

log = logging.getLogger(__name__)

KINDS = ("nik", "kpj")
_DIGITS = re.compile(r"[0-9]+")  # used with fullmatch: "$" would let a trailing newline through


def check_number(kind: str, number: str) -> str | None:
    """None if ``number`` is a plausible ``kind`` ("nik" or "kpj"), else why not (never echoing it).

    NIK (Nomor Induk Kependudukan, 16 digits): province code 11-94, district/subdistrict digits, birth date
    DDMMYY with 40 added to the day for women (01-31 or 41-71), month 01-12, a serial that is not 0000.
    KPJ (Kartu Peserta Jamsostek / BPJS Ketenagakerjaan membership number): 11 digits, not all one digit.
    The KPJ rule is our assumption (printed cards carry 11 digits; no public check digit): docs/kiosk.md.
    """
    if kind not in KINDS:
        return "unknown number type"
    if not isinstance(number, str) or not _DIGITS.fullmatch(number):
        return "digits only"
    if kind == "nik":
        if len(number) != 16:
            return "NIK has 16 digits"
        province, day, month = int(number[:2]), int(number[6:8]), int(number[8:10])
        if not 11 <= province <= 94:
            return "NIK province code not valid"
        if not (1 <= day <= 31 or 41 <= day <= 71):
            return "NIK birth date not valid"
        if not 1 <= month <= 12:
            return "NIK birth month not valid"
        if number[12:] == "0000":
            return "NIK serial not valid"
        return None
    if len(number) != 11:
        return "KPJ has 11 digits"
    if len(set(number)) == 1:
        return "KPJ not valid"
    return None


@dataclass
class Pending:
    """A request sent and not yet answered by a verify."""

    request_id: str
    row_id: int
    expires: float  # time.monotonic()


class RequestDesk:
    """Pending start requests: submitted from the page's thread, watched from the frame loop."""

    def __init__(self, timeout_s: float, hold_s: float) -> None:
        self.timeout_s = timeout_s
        self.hold_s = hold_s
        self._lock = threading.Lock()
        self.pending: Pending | None = None
        self.timed_out_until = 0.0
        self.sent = 0
        self.answered = 0
        self.timed_out = 0

    def submit(self, kind: str, number: str, link: MqttLink | None) -> dict[str, Any]:
        """Check and send one request (page thread, in an executor); the reply for the page."""
        problem = check_number(kind, number)
        if problem is not None:
            return {"type": "start_refused", "code": "REQUEST_REFUSED", "why": problem}
        if link is None:
            return {"type": "start_refused", "code": "OOS_STARTING", "why": "not connected yet"}
        with self._lock:
            if self.pending is not None:
                return {"type": "start_refused", "code": "SCREEN_WAITING", "why": "a request is already waiting"}
            rid = f"k-{uuid.uuid4().hex}"
            try:
                body = StartRequest(
                    request_id=rid,
                    terminal_id=link.terminal_id,
                    kind=kind,
                    ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
                    number=number,
                    timeout_s=self.timeout_s,
                ).wire()
                # Signed like a result (detached JWS, its own typ) when the link signs; then through the durable
                # outbox to <prefix>/request at QoS 1.
                sec = getattr(link, "security", None)
                stored = body if sec is None else encode_signed(sign_payload(body, sec.signer, typ=REQUEST_TYP))
                row = link.outbox.put(rid, "request", stored)
                link.notify_result()
            except Exception as err:  # outbox full / disk error / model refused: tell the member, keep serving
                # Our own errors name no number; any other (a validation error) is logged by type only.
                why = str(err) if isinstance(err, TerminalError) else type(err).__name__
                log.error("start request %s could not be stored: %s", rid, why)
                return {"type": "start_refused", "code": "OOS_OUTBOX", "why": "cannot store the request"}
            self.pending = Pending(rid, row, time.monotonic() + self.timeout_s)
            self.sent += 1
        log.info("start request %s sent (%s)", rid, kind)  # the number itself is never logged
        return {"type": "start_sent", "request_id": rid}

    def poll(self, session_request_id: str | None, link: MqttLink | None) -> str | None:
        """Frame loop: "waiting", "request_timeout" or None; answered/expired requests are settled here."""
        now = time.monotonic()
        with self._lock:
            p = self.pending
            if p is not None and session_request_id == p.request_id:
                self.pending = None
                self.answered += 1
                return None
            if p is not None and now >= p.expires:
                self.pending = None
                self.timed_out += 1
                self.timed_out_until = now + self.hold_s
                self._withdraw(p, link)
                log.warning(
                    "start request %s: no verify from the central system within %.0f s", p.request_id, self.timeout_s
                )
        if p is not None and self.pending is not None:
            return "waiting"
        return "request_timeout" if now < self.timed_out_until else None

    def cancel_all(self, link: MqttLink | None) -> None:
        """On shutdown: withdraw a request still waiting (the number must not outlive the attempt)."""
        with self._lock:
            p, self.pending = self.pending, None
        if p is not None:
            self._withdraw(p, link)

    @staticmethod
    def _withdraw(p: Pending, link: MqttLink | None) -> None:
        if link is None:
            return
        try:
            link.outbox.withdraw(p.row_id)
        except Exception as err:
            log.error("start request %s could not be withdrawn from the outbox: %s", p.request_id, err)
