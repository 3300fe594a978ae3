"""Replies to commands as typed models: the envelope, the error, and each command's own fields.

Every reply is ``{"request_id", "command", "ok", ...}``: a refusal adds ``error`` ({code, message}), an
accepted command adds the fields of its body model (``REPLY_BODIES``). docs/commands.md shows the schemas
these models generate (``python -m terminal.wire_docs`` regenerates it; a test checks it).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from terminal.wire import WireModel

log = logging.getLogger(__name__)


class ReplyError(WireModel):
    """Why a command was refused or failed: a machine-readable code and one line for people."""

    code: str = Field(
        pattern="^[A-Z][A-Z0-9_]{0,63}$", description="BAD_JSON, INVALID, EXPIRED, BUSY, ... (docs/mqtt.md lists them)"
    )
    message: str


class CommandReply(WireModel):
    """The reply envelope; an accepted command's own fields (its body model) follow ok."""

    model_config = ConfigDict(extra="allow")

    request_id: str | None = Field(description="the command's request_id (null when it was unusable)")
    command: str | None = Field(description="the command's name (null when unknown)")
    ok: bool
    error: ReplyError | SkipJsonSchema[None] = Field(None, description="present exactly when ok is false")


class VerifyReply(WireModel):
    """``verify`` accepted: a session started; its result follows on the results topic."""

    accepted: Literal[True] = True
    state: str = Field(
        description="searching for a new session; for a retry of a request already accepted: "
        "running, accepted (queued for its INTERRUPTED answer) or answered"
    )
    result_id: str | SkipJsonSchema[None] = Field(
        None, description="the id its result will carry (reserved when the request was stored)"
    )


class CancelReply(WireModel):
    """``cancel``: whether a running session was cancelled, and which."""

    cancelled: bool
    target_request_id: str | SkipJsonSchema[None] = None
    reason: str | SkipJsonSchema[None] = Field(None, description="why nothing was cancelled")


class DiagnoseReply(WireModel):
    """``diagnose``: the diagnostic report (camera, light, models, outbox, system)."""

    diagnostics: dict[str, Any]
    link: dict[str, Any] | SkipJsonSchema[None] = Field(
        None, description="the MQTT link's own state (state, broker, down_for_s, restarts)"
    )


class PingReply(WireModel):
    """``ping``: answered by the link itself with the terminal's wall clock."""

    pong: Literal[True] = True
    time: str = Field(json_schema_extra={"format": "date-time"})


REPLY_BODIES: dict[str, type[WireModel]] = {
    "verify": VerifyReply,
    "cancel": CancelReply,
    "diagnose": DiagnoseReply,
    "ping": PingReply,
}


def error_reply(code: str, message: str, name: str | None, request_id: str | None) -> dict[str, Any]:
    """A refusal: ``ok`` false with the error code and message."""
    return CommandReply(
        request_id=request_id,
        command=None if name is None else str(name)[:64],
        ok=False,
        error=ReplyError(code=code, message=message),
    ).wire()


def ok_reply(name: str, request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An accepted command's reply; a handler's ``{"ok": false, "error": ...}`` body becomes a refusal.

    The body is checked against the command's model; a body that breaks it is a bug of this terminal: it is
    logged as an error and sent as it is (the central system still learns what happened).
    """
    if body.get("ok") is False and isinstance(body.get("error"), dict):
        err = body["error"]
        return error_reply(str(err.get("code", "FAILED")), str(err.get("message", "")), name, request_id)
    model = REPLY_BODIES.get(name)
    fields = body
    if model is not None:
        try:
            fields = model.model_validate(body).wire()
        except ValidationError as err:
            log.error(
                "reply to %s %s does not follow its schema (sent anyway): %s", name, request_id, err.errors()[0]["msg"]
            )
    return {**CommandReply(request_id=request_id, command=name, ok=True).wire(), **fields}
