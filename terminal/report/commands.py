"""Inbound commands (``<prefix>/cmd/<name>``): schemas, validation, deadlines, de-duplication, dispatch.

Every refused command gets an error reply ``{"ok": false, "error": {"code", "message"}}`` and a WARNING
in the journal (never its payload: a verify carries a biometric template); the caller keeps serving.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from terminal.report.codes import CODES, is_temporary
from terminal.report.errors import CommandError, StorageError
from terminal.report.replies import error_reply, ok_reply
from terminal.report.seen import DedupCache, SeenRequests
from terminal.report.templates import TemplateValidator, default_template_validator
from terminal.report.topics import REQUEST_ID_RE
from terminal.security.envelope import peek_request_id, signed_until
from terminal.security.errors import SignatureError
from terminal.stamps import utc_iso
from terminal.wire import WireModel

if TYPE_CHECKING:
    from terminal.report.settings import MqttConfig
    from terminal.security.runtime import Security

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
STORAGE_FULL = "STORAGE_FULL"
ERROR_CODES = tuple(CODES)
__all__ = ["ERROR_CODES", "CommandProcessor", "DedupCache", "parse_deadline"]
BAD_SIGNATURE = "BAD_SIGNATURE"  # unsigned, wrongly signed, for another command/terminal, or expired signature
RETAINED = "RETAINED"  # a retained command would run again at every reconnect
# Opens a signed command (terminal.security.runtime.Security.authenticate); raises SignatureError.
Authenticator = Callable[[str | None, dict[str, Any]], dict[str, Any]]

_EPOCH_MAX = 1e11  # year 5138: anything larger is almost surely milliseconds, which we refuse as ambiguous
MAX_NESTING = 16  # a template is 2 levels deep; nothing legitimate comes near this


class _Command(WireModel):
    """Fields every command carries; unknown fields are refused and types are not coerced."""

    model_config = ConfigDict(strict=True)

    request_id: str = Field(pattern=REQUEST_ID_RE.pattern, description="unique per request; the reply carries it")
    deadline: str | int | float | None = Field(
        None,
        union_mode="left_to_right",
        description="ISO-8601 time with zone, or epoch seconds, at most "
        "mqtt.deadline_horizon_s ahead; required for verify unless "
        "require_deadline=false",
    )


class VerifyCommand(_Command):
    """Start a verification session against a reference template."""

    template: dict[str, Any] = Field(
        description="the member's reference, format terminal-template/1 (terminal.matching.template)"
    )
    member_ref: str | None = Field(
        None, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$", description="opaque reference echoed in the result"
    )
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
    "verify": VerifyCommand,
    "cancel": CancelCommand,
    "diagnose": DiagnoseCommand,
    "ping": PingCommand,
}


def parse_deadline(value: str | int | float) -> float:
    """An ISO-8601 time with zone, or epoch seconds, as epoch seconds; CommandError(INVALID) otherwise."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value[:64])
            if when.tzinfo is None:
                raise CommandError(INVALID, "deadline: ISO-8601 time needs a zone (Z or +07:00)")
            return when.timestamp()
        except (ValueError, OverflowError):
            raise CommandError(INVALID, "deadline: not an ISO-8601 time") from None
    # Compare before any float conversion: a 400-digit integer must be refused, not overflow.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value < _EPOCH_MAX
        or not math.isfinite(value)
    ):
        raise CommandError(INVALID, "deadline: epoch seconds out of range")
    return float(value)


def nesting_depth(value: Any, limit: int) -> int:
    """Depth of nested lists/objects in a decoded JSON value, counted iteratively up to ``limit`` + 1."""
    depth, level = 0, [value]
    while level and depth <= limit:
        depth += 1
        nxt: list[Any] = []
        for v in level:
            if isinstance(v, dict):
                nxt.extend(v.values())
            elif isinstance(v, list):
                nxt.extend(v)
        level = [v for v in nxt if isinstance(v, dict | list)]
    return depth


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN/Infinity by default; RFC 8259 does not


class CommandProcessor:
    """Validates one raw command and either replies with an error or hands it to the handler."""

    def __init__(
        self,
        *,
        max_bytes: int = 65536,
        dedup_ttl_s: float = 3600.0,
        require_deadline: bool = True,
        template_validator: TemplateValidator | None = None,
        clock: Callable[[], float] = time.time,
        seen_store: SeenRequests | None = None,
        deadline_horizon_s: float = 86400.0,
        authenticate: Authenticator | None = None,
        signature_margin_s: float = 300.0,
    ) -> None:
        self.max_bytes = max_bytes
        self.signature_margin_s = signature_margin_s
        self.authenticate = authenticate
        self.require_deadline = require_deadline
        self.deadline_horizon_s = deadline_horizon_s
        self.template_validator = template_validator or default_template_validator()
        # Ids are kept at least as long as a deadline may lie ahead: a captured command cannot run twice.
        self.dedup = DedupCache(max(dedup_ttl_s, deadline_horizon_s), clock=clock, store=seen_store)
        self.handler: CommandHandler | None = None
        self._clock = clock
        self.counts: dict[str, int] = {}

    def handle(self, name: str | None, raw: bytes, reply: Reply, retained: bool = False) -> str:
        """Process one command; returns "OK", "HANDLED" or the error code that was replied. Never raises."""
        try:
            return self._handle(name, raw, reply, retained)
        except Exception as err:  # whatever a command does, the link thread goes on and the sender gets an answer
            log.error(
                "command %s: internal error %s: %s",
                str(name)[:40],
                type(err).__name__,
                err,
                extra={"journal": {"RESULT": "command_internal", "REASON": "INTERNAL"}},
            )
            log.debug("command handling failed", exc_info=True)
            self._safe_reply(reply, self._error(INTERNAL, "internal error; see the terminal's journal", name, None))
            return self._count(INTERNAL)

    def _handle(self, name: str | None, raw: bytes, reply: Reply, retained: bool = False) -> str:
        request_id: str | None = None
        try:
            if len(raw) > self.max_bytes:
                raise CommandError(TOO_LARGE, f"{len(raw)} bytes > limit {self.max_bytes}")
            body = self._decode(raw)
            if retained:
                raise CommandError(
                    RETAINED,
                    "retained commands are refused (publish with retain=false)",
                    request_id=peek_request_id(body),
                )
            signed_exp = None
            if self.authenticate is not None:
                signed_exp = signed_until(body)  # trusted only because _authenticated accepts this same body
                body = self._authenticated(name, body)
            rid = body.get("request_id")
            request_id = rid if isinstance(rid, str) and REQUEST_ID_RE.match(rid) else None
            if name not in SCHEMAS:
                raise CommandError(UNKNOWN_COMMAND, f"unknown command {str(name)[:40]!r}; known: {', '.join(SCHEMAS)}")
            cmd, until = self._validate(name, body)
            if signed_exp is not None:  # keep the id while its signature is valid (+ clock skew): no late replay
                until = max(until or 0.0, signed_exp + self.signature_margin_s)
            request_id = cmd.request_id
            if name == "ping":  # idempotent: answered without touching the request-id store (works on a full disk)
                return self._dispatch(name, cmd, reply)
            try:
                duplicate, cached = self.dedup.check_and_add(cmd.request_id, until, durable=name == "verify")
            except StorageError as err:
                raise CommandError(STORAGE_FULL, f"{err}; not started") from None
            if duplicate:
                log.info("command %s %s re-delivered: not run again", name, cmd.request_id)
                self._safe_reply(
                    reply, cached or self._error(DUPLICATE, "being processed; not run twice", name, cmd.request_id)
                )
                return self._count(DUPLICATE)
            return self._dispatch(name, cmd, reply)
        except CommandError as err:
            if err.code in (BAD_SIGNATURE, RETAINED):
                request_id = err.request_id  # unverified: addresses the reply, never touches the dedup store
            log.warning(
                "command %s refused: %s %s (request_id=%s, %d bytes)",
                str(name)[:40],
                err.code,
                err.detail,
                request_id,
                len(raw),
            )
            msg = self._error(err.code, err.detail, name, request_id)
            if request_id is not None and err.code not in (DUPLICATE, BAD_SIGNATURE, RETAINED):
                self._settle(request_id, msg)  # only if it was registered before failing
            self._safe_reply(reply, msg)
            return self._count(err.code)

    def _settle(self, request_id: str, msg: dict[str, Any]) -> None:
        """Remember a final reply for re-deliveries; forget the id after a temporary refusal (a retry is served)."""
        error = msg.get("error")
        if not msg.get("ok", True) and isinstance(error, dict) and is_temporary(error.get("code")):
            self.dedup.forget(request_id)
        else:
            self.dedup.remember_reply(request_id, msg)

    def _authenticated(self, name: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert self.authenticate is not None
        try:
            return self.authenticate(name, body)
        except SignatureError as err:
            raise CommandError(BAD_SIGNATURE, f"{err.reason}: {err}", request_id=peek_request_id(body)) from None

    def _decode(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise CommandError(BAD_JSON, f"payload is not UTF-8 JSON ({type(err).__name__})") from None
        if nesting_depth(body, MAX_NESTING) > MAX_NESTING:
            raise CommandError(BAD_JSON, f"payload nested deeper than {MAX_NESTING} levels")
        if not isinstance(body, dict):
            raise CommandError(INVALID, "payload must be a JSON object")
        return body

    def _validate(self, name: str, body: dict[str, Any]) -> tuple[_Command, float | None]:
        """The one place a command is checked (schema, numbers, deadline, template); (command, deadline)."""
        try:
            cmd = SCHEMAS[name].model_validate(body)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(payload)"
            raise CommandError(INVALID, f"{where}: {first['msg']}") from None
        until = None
        if cmd.deadline is not None:
            until = parse_deadline(cmd.deadline)
            now = self._clock()
            if until < now:
                raise CommandError(EXPIRED, "deadline has passed; not started")
            if until > now + self.deadline_horizon_s:
                raise CommandError(
                    INVALID, f"deadline: more than {self.deadline_horizon_s:.0f} s ahead (mqtt.deadline_horizon_s)"
                )
        elif name == "verify" and self.require_deadline:
            raise CommandError(INVALID, "deadline: required for verify")
        if isinstance(cmd, VerifyCommand):
            self.template_validator(cmd.template)
        return cmd, until

    def _dispatch(self, name: str, cmd: _Command, reply: Reply) -> str:
        rid = cmd.request_id

        def wrapped(body: dict[str, Any]) -> None:
            msg = ok_reply(name, rid, body)
            if name != "ping":
                self._settle(rid, msg)
            self._safe_reply(reply, msg)

        if name == "ping":
            wrapped({"pong": True, "time": utc_iso()})
            return self._count("OK")
        if self.handler is None:
            raise CommandError(NOT_SUPPORTED, f"no handler for {name} in this process")
        try:
            self.handler(name, cmd.model_dump(), wrapped)
        except CommandError:
            raise
        except Exception as err:
            # The daemon keeps serving whatever a handler does; the traceback goes to the journal at debug.
            log.error("command %s %s: handler failed: %s: %s", name, rid, type(err).__name__, err)
            log.debug("handler traceback", exc_info=True)
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


def processor_for(
    cfg: MqttConfig, seen: SeenRequests, template_validator: TemplateValidator | None, security: Security | None
) -> CommandProcessor:
    """The link's processor from ``[mqtt]``; with ``security`` every command is authenticated first."""
    return CommandProcessor(
        max_bytes=cfg.max_command_bytes,
        dedup_ttl_s=cfg.command_dedup_ttl_s,
        require_deadline=cfg.require_deadline,
        template_validator=template_validator,
        seen_store=seen,
        deadline_horizon_s=cfg.deadline_horizon_s,
        authenticate=security.authenticate if security is not None else None,
        signature_margin_s=security.skew_s if security is not None else 300.0,
    )
