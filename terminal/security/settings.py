"""Config section ``[security]``: the terminal's signing key and the central system's command keys."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from terminal.config.base import Section


class SecurityConfig(Section):
    """Signed results (always) and signed commands (required by default)."""

    key_file: Path | None = Field(
        None,
        description="the terminal's Ed25519 private key (PEM, 0600); default: $CREDENTIALS_DIRECTORY/"
        "terminal_key (systemd LoadCredential=), else <terminal.state_dir>/terminal_key.pem",
    )
    central_public_keys: list[Path] = Field(
        default_factory=list,
        max_length=16,
        description="PEM public keys of the central system; a command signed by any of them is accepted (rotation)",
    )
    require_signed_commands: bool = Field(
        True, description="refuse (BAD_SIGNATURE) every command that is not signed by a central key"
    )
    command_max_validity_s: float = Field(
        86400.0, gt=0, le=7 * 86400, description="a command signature valid longer than this (exp - iat) is refused"
    )
    clock_skew_s: float = Field(300.0, ge=0, le=3600, description="tolerated clock difference for a signature's iat")
