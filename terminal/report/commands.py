"""Inbound commands (``<prefix>/cmd/<name>``): schemas, validation, deadlines, de-duplication, dispatch.

Every refused command gets an error reply ``{"ok": false, "error": {"code", "message"}}`` and a WARNING
in the journal (never its payload: a verify carries a biometric template); the caller keeps serving.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from terminal.report.errors import CommandError
from terminal.report.replies import error_reply, ok_reply
from terminal.report.seen import SeenRequests
from terminal.report.templates import TemplateValidator, default_template_validator
from terminal.report.topics import REQUEST_ID_RE
from terminal.wire import WireModel

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
CommandHandler = Callable[[str, dict[str, Any], Reply], None]

# Error codes sent back to the central system (documented in docs/mqtt.md).
BAD_JSON = "BAD_JSON"
UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
INVALID = "INVALID"
TOO_LARGE = "TOO_LARGE"
BAD_BASE64 = "BAD_BASE64"
BAD_TEMPLATE = "BAD_TEMPLATE"
WRONG_DIM = "WRONG_DIM"
WRONG_MODEL = "WRONG_MODEL"
EXPIRED = "EXPIRED"
DUPLICATE = "DUPLICATE"
NOT_SUPPORTED = "NOT_SUPPORTED"
INTERNAL = "INTERNAL"
ERROR_CODES = (BAD_JSON, UNKNOWN_COMMAND, INVALID, TOO_LARGE, BAD_BASE64, BAD_TEMPLATE, WRONG_DIM, WRONG_MODEL,
               EXPIRED, DUPLICATE, NOT_SUPPORTED, INTERNAL)

_EPOCH_MAX = 1e11  # year 5138: anything larger is almost surely milliseconds, which we refuse as ambiguous


class _Command(WireModel):
    """Fields every command carries; unknown fields are refused and types are not coerced."""

    model_config = ConfigDict(strict=True)

    request_id: str = Field(pattern=REQUEST_ID_RE.pattern, description="unique per request; the reply carries it")
    deadline: str | int | float | None = Field(None, description="ISO-8601 time with zone, or epoch seconds; "
                                                                  "required for verify unless require_deadline=false")


class VerifyCommand(_Command):
    """Start a verification session against a reference template."""

    template: dict[str, Any] = Field(description="the member's reference, format terminal-template/1 "
                                                 "(terminal.matching.template)")
    member_ref: str | None = Field(None, max_length=128, description="opaque reference echoed in the result")
    timeout_s: float | None = Field(None, gt=0, le=600)


class CancelCommand(_Command):
    """Cancel the running session (or the one started by ``target_request_id``)."""

    target_request_id: str | None = Field(None, pattern=REQUEST_ID_RE.pattern)


class DiagnoseCommand(_Command):
    """Ask for a diagnostic report (camera, light, models, outbox)."""

    checks: list[Literal["camera", "light", "models", "outbox", "all"]] | None = None


class PingCommand(_Command):
    """Liveness check, answered by the link itself."""


SCHEMAS: dict[str, type[_Command]] = {
    "verify": VerifyCommand, "cancel": CancelCommand, "diagnose": DiagnoseCommand, "ping": PingCommand,
}


def parse_deadline(value: str | int | float) -> float:
    """An ISO-8601 time with zone, or epoch seconds, as epoch seconds; CommandError(INVALID) otherwise."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(INVALID, "deadline: not an ISO-8601 time") from None
        if when.tzinfo is None:
            raise CommandError(INVALID, "deadline: ISO-8601 time needs a zone (Z or +07:00)")
        return when.timestamp()
    if isinstance(value, bool) or not math.isfinite(value) or not 0 <= value < _EPOCH_MAX:
        raise CommandError(INVALID, "deadline: epoch seconds out of range")
    return float(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN/Infinity by default; RFC 8259 does not


class DedupCache:
    """Request ids seen recently (TTL, bounded); remembers the reply so a re-delivery gets it again."""

    def __init__(self, ttl_s: float, max_entries: int = 10000, clock: Callable[[], float] = time.monotonic,
                 store: SeenRequests | None = None) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.store = store  # on disk: survives the restart after which a broker re-delivers a command

    def check_and_add(self, request_id: str) -> tuple[bool, dict[str, Any] | None]:
        """(True, cached reply) if seen within the TTL; else remember it and return (False, None)."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, (expires, _) = next(iter(self._seen.items()))
                if expires > now and len(self._seen) < self.max_entries:
                    break
                del self._seen[oldest]
            hit = self._seen.get(request_id)
            if hit is not None and hit[0] > now:
                return True, hit[1]
            if self.store is not None:
                seen, reply = self.store.get(request_id)
                if seen:
                    self._seen[request_id] = (now + self.ttl_s, reply)
                    return True, reply
                self.store.add(request_id, self.ttl_s)
            self._seen[request_id] = (now + self.ttl_s, None)
            return False, None

    def remember_reply(self, request_id: str, reply: dict[str, Any]) -> None:
        """Keep the reply of a command for re-deliveries."""
        with self._lock:
            if request_id in self._seen:
                self._seen[request_id] = (self._seen[request_id][0], reply)
                if self.store is not None:
                    self.store.set_reply(request_id, reply)

    def __len__(self) -> int:
        return len(self._seen)


class CommandProcessor:
    """Validates one raw command and either replies with an error or hands it to the handler."""

    def __init__(self, *, max_bytes: int = 65536, dedup_ttl_s: float = 3600.0, require_deadline: bool = True,
                 template_validator: TemplateValidator | None = None, clock: Callable[[], float] = time.time,
                 seen_store: SeenRequests | None = None) -> None:
        self.max_bytes = max_bytes
        self.require_deadline = require_deadline
        self.template_validator = template_validator or default_template_validator()
        self.dedup = DedupCache(dedup_ttl_s, store=seen_store)
        self.handler: CommandHandler | None = None
        self._clock = clock
        self.counts: dict[str, int] = {}

    def handle(self, name: str | None, raw: bytes, reply: Reply) -> str:
        """Process one command; returns "OK", "HANDLED" or the error code that was replied."""
        request_id: str | None = None
        try:
            if len(raw) > self.max_bytes:
                raise CommandError(TOO_LARGE, f"{len(raw)} bytes > limit {self.max_bytes}")
            body = self._decode(raw)
            rid = body.get("request_id")
            request_id = rid if isinstance(rid, str) and REQUEST_ID_RE.match(rid) else None
            if name not in SCHEMAS:
                raise CommandError(UNKNOWN_COMMAND, f"unknown command {str(name)[:40]!r}; known: {', '.join(SCHEMAS)}")
            cmd = self._validate(name, body)
            request_id = cmd.request_id
            duplicate, cached = self.dedup.check_and_add(cmd.request_id)
            if duplicate:
                log.info("command %s %s re-delivered: not run again", name, cmd.request_id)
                reply(cached or self._error(DUPLICATE, "already received; not run again", name, cmd.request_id))
                return self._count(DUPLICATE)
            return self._dispatch(name, cmd, reply)
        except CommandError as err:
            log.warning("command %s refused: %s %s (request_id=%s, %d bytes)", str(name)[:40], err.code,
                        err.detail, request_id, len(raw))
            msg = self._error(err.code, err.detail, name, request_id)
            if request_id is not None and err.code != DUPLICATE:
                self.dedup.remember_reply(request_id, msg)  # only if it was accepted before failing
            self._safe_reply(reply, msg)
            return self._count(err.code)

    def _decode(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise CommandError(BAD_JSON, f"payload is not UTF-8 JSON ({type(err).__name__})") from None
        if not isinstance(body, dict):
            raise CommandError(INVALID, "payload must be a JSON object")
        return body

    def _validate(self, name: str, body: dict[str, Any]) -> _Command:
        try:
            cmd = SCHEMAS[name].model_validate(body)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(payload)"
            raise CommandError(INVALID, f"{where}: {first['msg']}") from None
        if cmd.deadline is not None:
            if parse_deadline(cmd.deadline) < self._clock():
                raise CommandError(EXPIRED, "deadline has passed; not started")
        elif name == "verify" and self.require_deadline:
            raise CommandError(INVALID, "deadline: required for verify")
        if isinstance(cmd, VerifyCommand):
            self.template_validator(cmd.template)
        return cmd

    def _dispatch(self, name: str, cmd: _Command, reply: Reply) -> str:
        rid = cmd.request_id

        def wrapped(body: dict[str, Any]) -> None:
            msg = ok_reply(name, rid, body)
            self.dedup.remember_reply(rid, msg)
            self._safe_reply(reply, msg)

        if name == "ping":
            wrapped({"pong": True, "time": datetime.now(UTC).isoformat(timespec="milliseconds")})
            return self._count("OK")
        if self.handler is None:
            raise CommandError(NOT_SUPPORTED, f"no handler for {name} in this process")
        try:
            self.handler(name, cmd.model_dump(), wrapped)
        except CommandError:
            raise
        except Exception:
            # The daemon keeps serving whatever a handler does; the traceback goes to the journal.
            log.exception("command %s %s: handler failed", name, rid)
            raise CommandError(INTERNAL, "handler failed; see the terminal's journal") from None
        return self._count("HANDLED")

    @staticmethod
    def _error(code: str, message: str, name: str | None, request_id: str | None) -> dict[str, Any]:
        return error_reply(code, message, name, request_id)

    @staticmethod
    def _safe_reply(reply: Reply, msg: dict[str, Any]) -> None:
        try:
            reply(msg)
        except Exception:
            log.exception("could not send reply for request %s", msg.get("request_id"))

    def _count(self, outcome: str) -> str:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        return outcome
