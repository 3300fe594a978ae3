"""The two signed envelopes: results (a detached JWS in the ``signature`` field) and commands (flattened JWS).

Results stay readable JSON objects (the monitor, the central database and people read their fields): the
terminal signs the RFC 8785 canonical form of the object without ``signature`` and publishes the canonical
form with it, so a verifier can demand that the bytes it received are exactly those the terminal wrote.

Commands are consumed only by the terminal, so they travel as a standard flattened JWS JSON serialisation
(RFC 7515 section 7.2.2) whose payload is the command; its protected header binds the command name
(``cmd``), the terminal (``sub``) and a validity window (``iat``/``exp``): a signed ``ping`` cannot be
replayed as a ``verify``, at another terminal, or next year.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import terminal.security.jws as jws
from terminal.security.canonical import canonical_json, strict_loads
from terminal.security.errors import SignatureError
from terminal.security.keys import b64url

SIGNATURE_FIELD = "signature"
RESULT_TYP = "terminal-result+jws"
COMMAND_TYP = "terminal-command+jws"
ENVELOPE_KEYS = frozenset({"protected", "payload", "signature"})


def _canonical(obj: Any) -> bytes:
    try:
        return canonical_json(obj)
    except ValueError as err:
        raise SignatureError("malformed", f"content cannot be canonicalised: {err}") from None


def sign_payload(payload: dict[str, Any], key: Ed25519PrivateKey, *, typ: str = RESULT_TYP) -> dict[str, Any]:
    """A copy of ``payload`` with ``signature``: a detached compact JWS over its canonical form (without it)."""
    body = {k: v for k, v in payload.items() if k != SIGNATURE_FIELD}
    header: dict[str, Any] = {"typ": typ}
    if isinstance(body.get("terminal_id"), str):
        header["sub"] = body["terminal_id"]  # JWS verifiers see the claimed terminal without parsing the body
    protected, sig = jws.sign(header, b64url(_canonical(body)), key)
    return {**body, SIGNATURE_FIELD: f"{protected}..{sig}"}


def encode_signed(signed: dict[str, Any]) -> bytes:
    """The bytes to publish for a signed payload (canonical, so ``verify_payload(exact=True)`` accepts them)."""
    return _canonical(signed)


def verify_payload(
    data: bytes | dict[str, Any], keys: Sequence[Ed25519PublicKey], *, exact: bool = True, typ: str | None = RESULT_TYP
) -> dict[str, Any]:
    """The payload without ``signature`` if it was signed by one of ``keys``; SignatureError otherwise.

    ``data`` as bytes is checked exactly as received: strict JSON (no duplicate keys, NaN, huge integers)
    and, with ``exact``, byte for byte the canonical form the signer published (one trailing newline,
    as ``mosquitto_sub`` prints, is allowed).
    """
    raw: bytes | None = None
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data[:-1]) if data.endswith(b"\n") else bytes(data)
        try:
            obj = strict_loads(raw)
        except ValueError as err:
            raise SignatureError("malformed", f"not strict JSON: {err}") from None
    else:
        obj = data
    if not isinstance(obj, dict):
        raise SignatureError("malformed", "a signed payload is a JSON object")
    sig = obj.get(SIGNATURE_FIELD)
    if sig is None:
        raise SignatureError("missing", "no signature field: unsigned")
    parts = sig.split(".") if isinstance(sig, str) else []
    if len(parts) != 3 or parts[1] != "":
        raise SignatureError("malformed", "signature is not a detached compact JWS (header..signature)")
    body = {k: v for k, v in obj.items() if k != SIGNATURE_FIELD}
    header = jws.verify(parts[0], b64url(_canonical(body)), parts[2], keys)
    if typ is not None and header.get("typ") != typ:
        raise SignatureError("wrong_target", f"signed as {str(header.get('typ'))[:40]!r}, not {typ!r}")
    if "sub" in header and header["sub"] != body.get("terminal_id"):
        raise SignatureError("wrong_target", "the signed header's sub is not the result's terminal_id")
    if exact and raw is not None and _canonical(obj) != raw:
        raise SignatureError("not_canonical", "the bytes are not exactly what was signed (re-encoded or altered)")
    return body


def sign_command(
    command: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    terminal_id: str,
    name: str,
    ttl_s: float = 600.0,
    now: float | None = None,
) -> dict[str, Any]:
    """The flattened JWS to publish on ``<prefix>/cmd/<name>`` for ``command``, valid for ``ttl_s`` seconds."""
    if not isinstance(command, dict):
        raise SignatureError("malformed", "a command is a JSON object")
    t = time.time() if now is None else now
    header = {"typ": COMMAND_TYP, "cmd": name, "sub": terminal_id, "iat": int(t), "exp": int(t + ttl_s)}
    payload = b64url(_canonical(command))
    protected, sig = jws.sign(header, payload, key)
    return {"protected": protected, "payload": payload, "signature": sig}


def is_envelope(body: Any) -> bool:
    """True when ``body`` has the shape of a flattened JWS (and nothing else)."""
    return isinstance(body, dict) and set(body) == ENVELOPE_KEYS


def peek_request_id(body: Any) -> str | None:
    """The request id inside an envelope, UNVERIFIED: only to address an error reply, never to trust."""
    try:
        inner = strict_loads(jws.b64url_decode(body["payload"], "payload")) if is_envelope(body) else body
        rid = inner.get("request_id") if isinstance(inner, dict) else None
        return rid if isinstance(rid, str) else None
    except (SignatureError, ValueError, TypeError, KeyError):
        return None


def signed_until(body: Any) -> int | None:
    """The ``exp`` of an envelope's protected header, UNVERIFIED: use it only once ``open_command`` accepted it."""
    try:
        header = strict_loads(jws.b64url_decode(body["protected"], "protected header")) if is_envelope(body) else None
    except (SignatureError, ValueError, TypeError, KeyError):
        return None
    exp = header.get("exp") if isinstance(header, dict) else None
    return exp if isinstance(exp, int) and not isinstance(exp, bool) else None


def open_command(
    body: Any,
    keys: Sequence[Ed25519PublicKey],
    *,
    terminal_id: str,
    name: str,
    now: float | None = None,
    max_ttl_s: float = 86400.0,
    skew_s: float = 300.0,
) -> dict[str, Any]:
    """The command inside a signed envelope for ``name`` at ``terminal_id``; SignatureError otherwise."""
    if not is_envelope(body):
        raise SignatureError("missing", "unsigned command (expected a JWS: protected, payload, signature)")
    payload_raw = jws.b64url_decode(body["payload"], "payload")
    header = jws.verify(body["protected"], body["payload"], body["signature"], keys)
    if header.get("typ") != COMMAND_TYP:
        raise SignatureError("wrong_target", f"signed as {str(header.get('typ'))[:40]!r}, not a command")
    if header.get("cmd") != name:
        raise SignatureError("wrong_target", f"signed for command {str(header.get('cmd'))[:40]!r}, not {name!r}")
    if header.get("sub") != terminal_id:
        raise SignatureError("wrong_target", f"signed for terminal {str(header.get('sub'))[:64]!r}, not this one")
    iat, exp = header.get("iat"), header.get("exp")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp)):
        raise SignatureError("malformed", "iat and exp must be integer epoch seconds")
    assert isinstance(iat, int) and isinstance(exp, int)
    t = time.time() if now is None else now
    if exp < t:
        raise SignatureError("expired", f"signature expired {t - exp:.0f} s ago")
    if iat > t + skew_s:
        raise SignatureError("expired", "signed in the future (clock skew beyond the allowed)")
    if exp - iat > max_ttl_s:
        raise SignatureError("expired", f"valid for {exp - iat} s, more than the allowed {max_ttl_s:.0f} s")
    try:
        inner = strict_loads(payload_raw)
    except ValueError as err:
        raise SignatureError("malformed", f"payload is not strict JSON: {err}") from None
    if not isinstance(inner, dict):
        raise SignatureError("malformed", "the signed command is not a JSON object")
    return inner
