"""Structured logging to journald's native protocol, and a guard that keeps biometric data out of logs.

Every record becomes one datagram of journal fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE, ...)
plus the caller's own fields, passed as ``log.info("...", extra={"journal": {"SESSION_ID": sid}})``. A
technician then filters with ``journalctl -u terminal SESSION_ID=...``. Without journald the same records
go to stderr with sd-daemon ``<N>`` priority prefixes (terminal.logsetup).
"""

from __future__ import annotations

import array
import errno
import fcntl
import logging
import os
import re
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from terminal.logsink import priority_of, under_journald
from terminal.privacy import BiometricGuard

log = logging.getLogger(__name__)

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
IDENTIFIER = "terminal"
SEND_TIMEOUT_S = 2.0

# journald's rule for user field names: A-Z, 0-9 and _, not starting with _ or a digit, at most 64 chars.
_FIELD_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _field_name(key: str) -> str | None:
    name = re.sub(r"[^A-Z0-9_]", "_", key.upper())
    return name if _FIELD_NAME.match(name) else None


def _field_value(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, float):
        return f"{value:.6g}".encode()
    return str(value).encode("utf-8", "replace")


def encode_fields(fields: Iterable[tuple[str, Any]]) -> bytes:
    """Serialise fields in journald's native format: ``NAME=value\\n``, or the binary-safe form for values
    holding a newline: ``NAME\\n`` + 64-bit little-endian length + value + ``\\n``."""
    out = bytearray()
    for name, value in fields:
        raw = _field_value(value)
        key = name.encode("ascii")
        if b"\n" in raw:
            out += key + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"
        else:
            out += key + b"=" + raw + b"\n"
    return bytes(out)


def decode_fields(payload: bytes) -> list[tuple[str, bytes]]:
    """Parse the native format back into (name, value) pairs (used by tests and `terminal diagnose`)."""
    fields: list[tuple[str, bytes]] = []
    pos = 0
    while pos < len(payload):
        nl = payload.index(b"\n", pos)
        line = payload[pos:nl]
        if b"=" in line:
            name, _, value = line.partition(b"=")
            fields.append((name.decode("ascii"), value))
            pos = nl + 1
        else:
            (size,) = struct.unpack("<Q", payload[nl + 1 : nl + 9])
            start = nl + 9
            fields.append((line.decode("ascii"), payload[start : start + size]))
            if payload[start + size : start + size + 1] != b"\n":
                raise ValueError("binary journal field is not terminated by a newline")
            pos = start + size + 1
    return fields


class JournalHandler(logging.Handler):
    """A logging.Handler writing each record as a native-protocol datagram to journald.

    Large records that do not fit one datagram go through a sealed memfd passed with SCM_RIGHTS, as
    sd_journal_send(3) does. Errors go to logging's handleError (stderr), never to the caller.
    """

    def __init__(
        self,
        socket_path: Path | str = JOURNAL_SOCKET,
        identifier: str = IDENTIFIER,
        static_fields: Mapping[str, Any] | None = None,
        level: int = logging.NOTSET,
        send_timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        super().__init__(level)
        self.socket_path = str(socket_path)
        self.identifier = identifier
        self.static_fields = dict(static_fields or {})
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        # A full journald queue must not block the caller (the frame loop logs too): drop after a while.
        self._sock.settimeout(send_timeout)
        self._send_lock = threading.Lock()
        self.dropped = 0
        self.addFilter(BiometricGuard())

    @staticmethod
    def available(socket_path: Path | str = JOURNAL_SOCKET) -> bool:
        """True when journald's native socket exists and accepts a connection."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
        finally:
            probe.close()
        return True

    def fields_for(self, record: logging.LogRecord) -> list[tuple[str, Any]]:
        """The journal fields of one (already guarded) record."""
        fields: list[tuple[str, Any]] = [
            ("MESSAGE", self.format(record)),
            ("PRIORITY", priority_of(record.levelno)),
            ("SYSLOG_IDENTIFIER", self.identifier),
            ("LOGGER", record.name),
            ("CODE_FILE", record.pathname),
            ("CODE_LINE", record.lineno),
            ("CODE_FUNC", record.funcName),
            ("THREAD_NAME", record.threadName),
        ]
        if record.exc_info and record.exc_info[0] is not None:
            fields.append(("EXCEPTION", "".join(traceback.format_exception_only(*record.exc_info[:2])).strip()))
        redacted = getattr(record, "redacted", None)
        if redacted:
            fields.append(("REDACTED", ",".join(redacted)))
        extra = dict(self.static_fields)
        journal = getattr(record, "journal", None)
        if isinstance(journal, Mapping):
            extra.update(journal)
        for key, value in extra.items():
            if value is None:
                continue
            name = _field_name(str(key))
            if name is None:
                continue  # journald would drop it silently anyway; keep the rest of the record
            fields.append((name, value))
        return fields

    def emit(self, record: logging.LogRecord) -> None:
        """Send the record to journald."""
        try:
            self._send(encode_fields(self.fields_for(record)))
        except TimeoutError:
            self.dropped += 1  # journald is not reading; counted, not retried (the caller must go on)
        except Exception:
            self.handleError(record)

    def _send(self, payload: bytes) -> None:
        with self._send_lock:
            try:
                self._sock.sendto(payload, self.socket_path)
                return
            except OSError as err:
                if err.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                    raise
            # Too big for one datagram: hand journald a sealed memfd holding the payload.
            fd = os.memfd_create("journal-entry", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
            try:
                os.write(fd, payload)
                fcntl.fcntl(
                    fd,
                    fcntl.F_ADD_SEALS,
                    fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL,
                )
                self._sock.sendmsg(
                    [], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))], 0, self.socket_path
                )
            finally:
                os.close(fd)

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
        super().close()


class WithFields(logging.Formatter):
    """Wraps a formatter and appends the record's journal fields, ``[RESULT=match SESSION_ID=...]``.

    For the stderr fallback: without journald the structured fields would otherwise be lost.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        """The inner formatting with the fields added to the first line."""
        text = self.inner.format(record)
        journal = getattr(record, "journal", None)
        if not isinstance(journal, Mapping) or not journal:
            return text
        suffix = " [" + " ".join(f"{k}={v}" for k, v in journal.items() if v is not None) + "]"
        first, nl, rest = text.partition("\n")
        return first + suffix + nl + rest


def journal_handler_if_available(
    socket_path: Path | str = JOURNAL_SOCKET, identifier: str = IDENTIFIER
) -> JournalHandler | None:
    """A JournalHandler when stderr goes to the journal and its native socket works; None otherwise."""
    if not under_journald() or not JournalHandler.available(socket_path):
        return None
    return JournalHandler(socket_path, identifier=identifier or Path(sys.argv[0]).name)
