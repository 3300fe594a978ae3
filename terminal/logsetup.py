"""Logging set-up: journald-friendly priority prefixes under systemd, readable lines elsewhere."""

from __future__ import annotations

import logging
import sys

from terminal.logsink import priority_of, under_journald
from terminal.privacy import BiometricGuard


class JournalPrefixFormatter(logging.Formatter):
    """Formats ``<prio>logger: message`` lines for journald's stdout stream."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record with its sd-daemon priority prefix."""
        prio = priority_of(record.levelno)
        text = super().format(record)
        # Every physical line needs the prefix, or journald files continuation lines as INFO.
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


class _StderrHandler(logging.StreamHandler):
    """A stream handler that always writes to the current sys.stderr (it may be replaced, e.g. by pytest)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(level: str = "info") -> None:
    """Configure the root logger once for the CLI or the daemon."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    # Under systemd prefer journald's native protocol (structured fields); else priority-prefixed stderr.
    from terminal.daemon.journal import WithFields, journal_handler_if_available

    handler: logging.Handler | None = journal_handler_if_available()
    if handler is None:
        handler = _StderrHandler()
        if under_journald():
            handler.setFormatter(WithFields(JournalPrefixFormatter("%(name)s: %(message)s")))
        else:
            handler.setFormatter(
                WithFields(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
            )
    handler.addFilter(BiometricGuard())  # no faces, embeddings or landmarks in any log
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Third-party chatter (absl from MediaPipe, paho) stays quiet unless we debug.
    for noisy in ("absl", "paho", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
