"""Every error code a command reply can carry, what it means, and whether a retry with the same id is served.

docs/mqtt.md documents each one (tests/report/test_codes.py checks that it does). A *temporary* refusal is
not remembered under the request id: the central system may retry the same request id and it is served.
A permanent refusal is remembered for the dedup horizon and sent again to a retry.
"""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    """One reply error code."""

    name: str
    temporary: bool
    meaning: str


CODES: dict[str, Code] = {
    c.name: c
    for c in (
        Code("BAD_JSON", False, "the payload is not UTF-8 JSON (NaN/Infinity and nesting deeper than the limit too)"),
        Code("UNKNOWN_COMMAND", False, "no such command name"),
        Code("INVALID", False, "schema or type error; numbers out of range; deadline beyond the horizon"),
        Code("TOO_LARGE", False, "payload over mqtt.max_command_bytes (refused before parsing)"),
        Code("BAD_BASE64", False, "a template embedding is not base64"),
        Code("BAD_TEMPLATE", False, "the template is malformed"),
        Code("WRONG_DIM", False, "the template's dimension is not the embedder's"),
        Code("WRONG_MODEL", False, "the template was made by another model or version"),
        Code("EXPIRED", False, "the deadline has passed; nothing was started"),
        Code("DUPLICATE", False, "the request id is being processed right now; nothing runs twice"),
        Code("NOT_SUPPORTED", False, "this process does not serve that command"),
        Code(
            "BAD_SIGNATURE",
            False,
            "not signed by a key in security.central_public_keys, signed for another command "
            "or terminal, or the signature expired (docs/security.md); nothing was run",
        ),
        Code(
            "RETAINED", False, "a retained command (it would run again at every reconnect); publish with retain=false"
        ),
        Code(
            "INTERNAL",
            True,
            "the terminal failed while handling the command (see its journal); nothing was "
            "accepted, the link goes on, a retry is served",
        ),
        Code("BUSY", True, "a session or a diagnose is running; retry later with the same id"),
        Code("CAMERA_DOWN", True, "no frames from the camera within daemon.command_wait_s; retry later"),
        Code("OUTBOX_FULL", True, "results cannot be stored (outbox at its bound); no session is started"),
        Code("STORAGE_FULL", True, "the state directory cannot be written (disk full); no session is started"),
        Code("RATE_LIMITED", True, "diagnose asked again within daemon.diagnose_min_interval_s"),
        Code("OVERLOADED", True, "the request-id store holds its maximum of unexpired ids; retry later"),
    )
}

TEMPORARY = frozenset(c.name for c in CODES.values() if c.temporary)


def is_temporary(code: str | None) -> bool:
    """True for a refusal that is not remembered under the request id (a retry with the same id is served)."""
    return code in TEMPORARY
