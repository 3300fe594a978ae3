"""Errors of the signing package."""

from __future__ import annotations

from terminal.errors import TerminalError


class SignatureError(TerminalError):
    """A signature is missing, malformed, made by an unknown key, wrong, or expired; ``reason`` says which."""

    exit_code = 65  # EX_DATAERR: the input is not what it claims to be

    def __init__(self, reason: str, message: str) -> None:
        """``reason``: one of missing, malformed, unknown_key, invalid, expired, wrong_target, not_canonical."""
        super().__init__(message)
        self.reason = reason


class KeyError_(TerminalError):
    """A key file is missing, unreadable, or not an Ed25519 key in PEM."""

    exit_code = 78  # a key is configuration: EX_CONFIG, systemd does not restart in a loop
