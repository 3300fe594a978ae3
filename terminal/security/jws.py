"""JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): the signing input, strict base64url, header checks.

Only what we need and nothing an attacker could steer: ``alg`` must be ``EdDSA`` (no ``none``, no HMAC
confusion), ``crit`` is refused, the header is a small JSON object, base64url must be canonical (no padding,
no stray bits), the key is picked by ``kid`` among the keys we trust and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from terminal.security.canonical import canonical_json, strict_loads
from terminal.security.errors import SignatureError
from terminal.security.keys import b64url, thumbprint

ALG = "EdDSA"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_HEADER_BYTES = 1024


def b64url_decode(text: Any, what: str) -> bytes:
    """Strict base64url (no padding, canonical trailing bits); SignatureError(malformed) otherwise."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise SignatureError("malformed", f"{what}: not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureError("malformed", f"{what}: not base64url") from None
    if b64url(data) != text:
        raise SignatureError("malformed", f"{what}: not canonical base64url")
    return data


def sign(header: dict[str, Any], payload_b64: str, key: Ed25519PrivateKey) -> tuple[str, str]:
    """(protected, signature) for ``header`` (alg and kid are set here) over the base64url payload."""
    full = {**header, "alg": ALG, "kid": thumbprint(key.public_key())}
    protected = b64url(canonical_json(full))
    sig = key.sign(f"{protected}.{payload_b64}".encode("ascii"))
    return protected, b64url(sig)


def verify(protected: Any, payload_b64: str, signature: Any, keys: Sequence[Ed25519PublicKey]) -> dict[str, Any]:
    """The protected header once the signature checks out with one of ``keys``; SignatureError otherwise."""
    if not isinstance(protected, str) or len(protected) > MAX_HEADER_BYTES * 4 // 3 + 4:
        raise SignatureError("malformed", "protected header missing or too large")
    try:
        header = strict_loads(b64url_decode(protected, "protected header"))
    except ValueError as err:
        raise SignatureError("malformed", f"protected header is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise SignatureError("malformed", "protected header is not a JSON object")
    if header.get("alg") != ALG:
        raise SignatureError("malformed", f"alg must be {ALG}, not {str(header.get('alg'))[:20]!r}")
    if "crit" in header:
        raise SignatureError("malformed", "crit header parameters are not supported")
    sig = b64url_decode(signature, "signature")
    if len(sig) != 64:
        raise SignatureError("malformed", "an Ed25519 signature has 64 bytes")
    kid = header.get("kid")
    candidates = [k for k in keys if thumbprint(k) == kid] if isinstance(kid, str) else list(keys)
    if not candidates:
        raise SignatureError("unknown_key", f"signed by key {str(kid)[:50]!r}, which is not one we trust")
    data = f"{protected}.{payload_b64}".encode("ascii")
    for key in candidates:
        try:
            key.verify(sig, data)
            return header
        except InvalidSignature:
            continue
    raise SignatureError("invalid", "the signature does not match the content")
