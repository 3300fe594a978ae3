"""Logging set-up: journald-friendly priority prefixes under systemd, readable lines elsewhere."""

from __future__ import annotations

import logging
import os
import sys

# sd-daemon(3) priority prefixes: journald strips "<N>" and stores N as PRIORITY.
_SD_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalPrefixFormatter(logging.Formatter):
    """Formats ``<prio>logger: message`` lines for journald's stdout stream."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record with its sd-daemon priority prefix."""
        prio = _SD_PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        text = super().format(record)
        # Every physical line needs the prefix, or journald files continuation lines as INFO.
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


def under_journald() -> bool:
    """True when stderr is connected to the journal (systemd sets JOURNAL_STREAM)."""
    stream = os.environ.get("JOURNAL_STREAM")
    if not stream:
        return False
    try:
        dev, ino = (int(x) for x in stream.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return st.st_dev == dev and st.st_ino == ino


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
    from terminal.daemon.journal import BiometricGuard, WithFields, journal_handler_if_available

    handler: logging.Handler | None = journal_handler_if_available()
    if handler is None:
        handler = _StderrHandler()
        if under_journald():
            handler.setFormatter(WithFields(JournalPrefixFormatter("%(name)s: %(message)s")))
        else:
            handler.setFormatter(WithFields(logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")))
    handler.addFilter(BiometricGuard())  # no faces, embeddings or landmarks in any log
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Third-party chatter (absl from MediaPipe, paho) stays quiet unless we debug.
    for noisy in ("absl", "paho", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
