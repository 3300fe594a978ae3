"""Errors of the reporting package (all derive from terminal.errors.ReportError / TerminalError)."""

from __future__ import annotations

from terminal.errors import ConfigError, ReportError


class OutboxFullError(ReportError):
    """The outbox reached its bound and its policy refuses more results (refuse new sessions)."""


class OutboxError(ReportError):
    """The outbox database cannot be opened or written."""


class CredentialError(ConfigError):
    """The MQTT password or a TLS file cannot be read."""


class CommandError(ReportError):
    """A command was refused; ``code`` is the machine-readable reason sent back in the error reply."""

    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message
        self.request_id = request_id


class StorageError(OutboxError):
    """A write to the state directory's SQLite files failed (disk full, I/O error); new sessions are refused."""
