"""What the running terminal needs to sign and verify: its own key and the central keys, from the config."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import terminal.security.keys as keys
from terminal.security.envelope import encode_signed, is_envelope, open_command, sign_payload
from terminal.security.errors import SignatureError

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)


def load_or_create_terminal_key(state_dir: Path, configured: Path | None) -> tuple[Ed25519PrivateKey, Path]:
    """The terminal key; created (0600) in the state dir on first start if there is none (logged at WARNING)."""
    path = keys.terminal_key_path(state_dir, configured)
    if not path.exists() and configured is None and path.parent == Path(state_dir):
        key = keys.generate()
        keys.write_private(path, key)
        log.warning(
            "created a new terminal signing key %s (kid %s): enrol its public key at the central system "
            "('terminal keys show')",
            path,
            keys.thumbprint(key.public_key()),
        )
        return key, path
    return keys.load_private(path), path


@dataclass
class Security:
    """Signs results with the terminal key; opens signed commands with the central keys."""

    terminal_id: str
    signer: Ed25519PrivateKey
    central_keys: list[Ed25519PublicKey] = field(default_factory=list)
    require_signed: bool = True
    max_validity_s: float = 86400.0
    skew_s: float = 300.0
    clock: Callable[[], float] = time.time

    @classmethod
    def from_config(cls, cfg: Config) -> Security:
        """Load (or create) the terminal key and load every central key; KeyError_ names a bad file."""
        sec = cfg.security
        signer, path = load_or_create_terminal_key(cfg.terminal.state_dir, sec.key_file)
        central = [keys.load_public(p) for p in sec.central_public_keys]
        log.info(
            "signing results with %s (kid %s); %d central key(s); signed commands %s",
            path,
            keys.thumbprint(signer.public_key()),
            len(central),
            "required" if sec.require_signed_commands else "NOT required",
        )
        return cls(
            cfg.terminal.id, signer, central, sec.require_signed_commands, sec.command_max_validity_s, sec.clock_skew_s
        )

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint) of the terminal key."""
        return keys.thumbprint(self.signer.public_key())

    def sign_result(self, payload: dict[str, Any]) -> bytes:
        """The canonical signed bytes of a result record, as they go into the outbox and onto the wire."""
        return encode_signed(sign_payload(payload, self.signer))

    def authenticate(self, name: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """The command to process: opened from its signed envelope, or ``body`` if unsigned ones are allowed."""
        if not is_envelope(body):
            if self.require_signed:
                raise SignatureError(
                    "missing", "unsigned command; this terminal requires commands signed by the central system"
                )
            return body
        return open_command(
            body,
            self.central_keys,
            terminal_id=self.terminal_id,
            name=str(name),
            now=self.clock(),
            max_ttl_s=self.max_validity_s,
            skew_s=self.skew_s,
        )
