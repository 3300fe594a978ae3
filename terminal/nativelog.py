"""Keeps the C++ chatter of MediaPipe and LiteRT off the terminal unless ``--log-level debug``.

MediaPipe (absl/glog) and LiteRT write INFO and WARNING lines straight to file descriptor 2 from their own
threads, while loading a model, on the first inference and on close; GLOG_minloglevel and
TF_CPP_MIN_LOG_LEVEL no longer reach them (measured with mediapipe 1.2.3: the 5-18 lines stay). So the CLI
points fd 2 at a pipe and a small thread copies every line except that chatter to the real stderr. Python's
own ``sys.stderr`` writes to a copy of the real stderr directly (a progress bar still sees a terminal).
Error and fatal C++ lines (``E``/``F`` prefixes) always pass.

A crash must still be readable: faulthandler (enabled by the systemd unit) is pointed at the real stderr while
the filter runs, because a dump written into the pipe would die with the process before being copied. For the
same reason the daemon (``terminal run``) is not filtered: a fatal C++ line just before an abort must reach
the journal.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import re
import sys
import threading
from types import TracebackType

# glog/absl "I0000 00:00:1796193681.541545     647 file.cc:181] ...", LiteRT "INFO: ...", and absl's preamble.
NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ [^\]]+\] |INFO: |WARNING: Logging before InitGoogle\(\)"
    rb"|WARNING: All log messages before absl::InitializeLog)"
)


class NativeLogFilter:
    """Context manager: while open, C-level writes to fd 2 lose the MediaPipe/LiteRT INFO and WARNING lines."""

    def __init__(self) -> None:
        self._saved_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._old_stderr: object = None
        self.dropped = 0

    def __enter__(self) -> NativeLogFilter:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stderr.flush()
        try:
            self._saved_fd = os.dup(2)
            read_fd, write_fd = os.pipe()
        except OSError:  # no stderr at all: nothing to filter
            self._saved_fd = None
            return self
        os.dup2(write_fd, 2)
        os.close(write_fd)
        if _is_fd2(sys.stderr):  # keep Python's writes on the real stderr (and its isatty)
            self._old_stderr = sys.stderr
            sys.stderr = io.TextIOWrapper(
                os.fdopen(os.dup(self._saved_fd), "wb", buffering=0),
                encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
                errors="backslashreplace",
                line_buffering=True,
            )
        if faulthandler.is_enabled():  # a crash dump goes straight to the real stderr, not into the pipe
            faulthandler.enable(file=self._saved_fd, all_threads=True)
        self._thread = threading.Thread(
            target=self._copy, args=(read_fd, self._saved_fd), name="native-log-filter", daemon=True
        )
        self._thread.start()
        return self

    def _copy(self, read_fd: int, out_fd: int) -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._emit(line + b"\n", out_fd)
            if pending:
                self._emit(pending, out_fd)

    def _emit(self, line: bytes, out_fd: int) -> None:
        if NOISE.match(line):
            self.dropped += 1
            return
        with contextlib.suppress(OSError):
            os.write(out_fd, line)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._saved_fd is None:
            return
        if self._old_stderr is not None:
            with contextlib.suppress(ValueError, OSError):
                sys.stderr.flush()
            replaced, sys.stderr = sys.stderr, self._old_stderr
            replaced.close()
        os.dup2(self._saved_fd, 2)  # closes the pipe's last write end: the copier sees EOF and drains
        if faulthandler.is_enabled():
            faulthandler.enable(file=2, all_threads=True)
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._saved_fd)
        self._saved_fd = None


def _is_fd2(stream: object) -> bool:
    try:
        return stream is not None and stream.fileno() == 2  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return False
