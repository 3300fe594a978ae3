"""The project's exception hierarchy: every error we raise derives from TerminalError."""

from __future__ import annotations


class TerminalError(Exception):
    """Base class of every error the terminal raises on purpose.

    ``exit_code`` is what the CLI exits with when the error reaches it; the message is one line
    that says what went wrong, where, and how to fix it.
    """

    exit_code = 1


class ConfigError(TerminalError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 78  # EX_CONFIG from sysexits.h, what systemd and admins expect for bad config


class ModelError(TerminalError):
    """A model file is missing, corrupt or cannot be loaded."""

    exit_code = 72  # EX_OSFILE


class SourceError(TerminalError):
    """A frame source (camera, video, recording) cannot be opened or read."""

    exit_code = 66  # EX_NOINPUT


class HardwareError(TerminalError):
    """A GPIO device (light, LED, buzzer) cannot be driven."""

    exit_code = 69  # EX_UNAVAILABLE


class ReportError(TerminalError):
    """The outbox or the MQTT link failed in a way the caller must know about."""

    exit_code = 75  # EX_TEMPFAIL


class UsageError(TerminalError):
    """The command line itself is wrong (a missing or conflicting option): what argparse exits with."""

    exit_code = 2  # argparse's usage-error code; every usage error of the CLI exits with it
