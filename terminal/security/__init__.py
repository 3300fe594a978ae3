"""Signed results and commands (JWS, EdDSA/Ed25519): keys, canonical JSON, envelopes; see docs/security.md.

The small public API other packages use (the kiosk signs its member requests with it too):

- ``sign_payload(payload, key)`` / ``verify_payload(data, keys)``: a JSON object with a detached JWS in its
  ``signature`` field (results);
- ``sign_command(...)`` / ``open_command(...)``: a command inside a flattened JWS JSON envelope;
- ``keys``: create, load and show Ed25519 keys (PEM: PKCS#8 private, SubjectPublicKeyInfo public).
"""

from __future__ import annotations

from terminal.security.envelope import (
    SIGNATURE_FIELD,
    encode_signed,
    open_command,
    sign_command,
    sign_payload,
    verify_payload,
)
from terminal.security.errors import SignatureError

__all__ = [
    "SIGNATURE_FIELD",
    "SignatureError",
    "encode_signed",
    "open_command",
    "sign_command",
    "sign_payload",
    "verify_payload",
]
