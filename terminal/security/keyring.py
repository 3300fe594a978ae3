"""Which terminal each result key belongs to, for ``terminal verify-result``.

A result's ``terminal_id`` is signed, but by whichever terminal signed it: terminal A's key can sign a result
that claims to come from terminal B. So a verifier must know which key belongs to which terminal and check
that the key that verified belongs to the claimed terminal. Keys come bound (``--key TERMINAL_ID=PEM`` or a
keyring file mapping terminal ids to PEM paths) or bare (``--key PEM``); a bare key says nothing about which
terminal it belongs to, so it is accepted only as the single key, together with ``--terminal ID``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from terminal.errors import ConfigError
from terminal.security import keys
from terminal.security.envelope import verify_payload
from terminal.security.errors import SignatureError

TERMINAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_KEYRING_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BoundKey:
    """A public key and the terminal it belongs to (None: a bare key, not bound to any terminal)."""

    terminal_id: str | None
    key: Ed25519PublicKey


def parse_key_arg(text: str) -> BoundKey:
    """``TERMINAL_ID=PUBLIC.pem`` (bound) or ``PUBLIC.pem`` (bare)."""
    tid, sep, path = text.partition("=")
    if sep and TERMINAL_ID.match(tid) and path:
        return BoundKey(tid, keys.load_public(Path(path)))
    return BoundKey(None, keys.load_public(Path(text)))


def load_keyring(path: Path) -> list[BoundKey]:
    """A keyring file: a JSON object (or TOML table, ``.toml``) mapping terminal id -> PEM path or list of paths.

    Relative paths are relative to the keyring file's directory. Several paths for one terminal: key rotation.
    """
    try:
        data = path.read_bytes()[: MAX_KEYRING_BYTES + 1]
    except OSError as err:
        raise ConfigError(f"--keyring {path}: {err.strerror or err}") from None
    if len(data) > MAX_KEYRING_BYTES:
        raise ConfigError(f"--keyring {path}: more than {MAX_KEYRING_BYTES} bytes")
    try:
        obj: Any = tomllib.loads(data.decode("utf-8")) if path.suffix == ".toml" else json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"--keyring {path}: not {'TOML' if path.suffix == '.toml' else 'JSON'} ({err})") from None
    if not isinstance(obj, dict) or not obj:
        raise ConfigError(f"--keyring {path}: expected a non-empty object terminal_id -> PEM path")
    out: list[BoundKey] = []
    for tid, value in obj.items():
        if not TERMINAL_ID.match(tid):
            raise ConfigError(f"--keyring {path}: {tid[:70]!r} is not a terminal id")
        paths = value if isinstance(value, list) else [value]
        if not paths or not all(isinstance(p, str) and p for p in paths):
            raise ConfigError(f"--keyring {path}: {tid}: expected a PEM path or a list of PEM paths")
        out += [BoundKey(tid, keys.load_public(path.parent / p)) for p in paths]
    return out


def verify_bound(raw: bytes, ring: Sequence[BoundKey], *, terminal: str | None) -> dict[str, Any]:
    """The verified result, signed by a key that belongs to the terminal it claims; SignatureError otherwise.

    With a bare key among ``ring`` it must be the only key and ``terminal`` (``--terminal``) must be given;
    the result must then claim that terminal.
    """
    if not ring:
        raise ConfigError("verify-result: give --key or --keyring")
    body = verify_payload(raw, [b.key for b in ring])  # the claimed terminal_id is now authentic content
    claimed = body.get("terminal_id")
    if any(b.terminal_id is None for b in ring):
        if len(ring) != 1 or terminal is None:
            raise SignatureError(
                "unbound_key",
                "a bare --key is not bound to a terminal: give exactly one key "
                "with --terminal ID, or use --key ID=PEM / --keyring FILE",
            )
        if claimed != terminal:
            raise SignatureError(
                "wrong_key", f"result claims terminal {str(claimed)[:70]!r}, the key was given for {terminal!r}"
            )
        return body
    mine = [b.key for b in ring if b.terminal_id == claimed]
    if not mine:
        raise SignatureError(
            "wrong_key", f"result claims terminal {str(claimed)[:70]!r}, but none of the keys belongs to it"
        )
    try:
        return verify_payload(raw, mine)
    except SignatureError:
        raise SignatureError(
            "wrong_key", f"result claims terminal {str(claimed)[:70]!r} but was signed by another terminal's key"
        ) from None
