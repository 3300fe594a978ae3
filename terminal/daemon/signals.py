"""SIGTERM/SIGINT/SIGHUP as flags the main loop polls (the reload itself is in ``terminal.daemon.reload``).

Signal handlers here only set plain attributes and write one byte to a self-pipe: no locks, no logging,
no I/O beyond that byte. A handler that took a lock (threading.Event.set, logging) could deadlock when the
signal lands while the main thread already holds that same lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from terminal.errors import TerminalError

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RELOAD_SIGNALS = (signal.SIGHUP,)


class SignalError(TerminalError):
    """Signal handlers could not be installed (not in the main thread)."""


class SignalFlags:
    """Stop and reload requests set by signal handlers, for the main loop to poll.

    ``stop_requested`` stays set once SIGTERM/SIGINT arrived; ``stop_count`` > 1 means the operator asked
    twice (the loop may skip the graceful path). ``take_reload()`` returns and clears a pending SIGHUP.
    ``wait(timeout)`` sleeps until a signal arrives or the timeout passes (select on a self-pipe), so an
    idle daemon reacts immediately instead of at the next poll.
    """

    def __init__(self) -> None:
        self.stop_count = 0
        self.last_signal: int | None = None
        self._reload_pending = False
        self._previous: dict[int, Any] = {}
        self._rfd, self._wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._installed = False

    @property
    def stop_requested(self) -> bool:
        """True once SIGTERM or SIGINT arrived."""
        return self.stop_count > 0

    @property
    def reload_pending(self) -> bool:
        """True while a SIGHUP waits to be handled."""
        return self._reload_pending

    @property
    def signal_name(self) -> str | None:
        """Name of the last signal received (``SIGTERM``), for status and logs."""
        return signal.Signals(self.last_signal).name if self.last_signal is not None else None

    def install(self) -> SignalFlags:
        """Install the handlers (main thread only); previous handlers are restored by restore()."""
        if threading.current_thread() is not threading.main_thread():
            raise SignalError("signal handlers can only be installed from the main thread")
        for sig in (*STOP_SIGNALS, *RELOAD_SIGNALS):
            self._previous[sig] = signal.signal(sig, self._handle)
        self._installed = True
        return self

    def restore(self) -> None:
        """Put back the handlers that were there before install()."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self._installed = False

    def close(self) -> None:
        """Restore handlers and close the self-pipe."""
        if self._installed:
            self.restore()
        for fd in (self._rfd, self._wfd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask the loop to stop, as SIGTERM would (for MQTT commands and tests)."""
        self._handle(signum, None)

    def request_reload(self) -> None:
        """Ask the loop to reload the config, as SIGHUP would."""
        self._handle(signal.SIGHUP, None)

    def take_reload(self) -> bool:
        """True (once) if a reload was requested since the last call."""
        pending, self._reload_pending = self._reload_pending, False
        return pending

    def wait(self, timeout: float | None) -> bool:
        """Sleep up to ``timeout`` seconds or until a signal; True if a stop or reload is pending."""
        if not (self.stop_requested or self._reload_pending):
            with contextlib.suppress(InterruptedError):
                select.select([self._rfd], [], [], timeout)
        self._drain()
        return self.stop_requested or self._reload_pending

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._rfd, 64):
                pass

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        # Python runs this between two bytecodes of the main thread, which may be holding any lock at that
        # moment: so assignments and one non-blocking write only.
        self.last_signal = signum
        if signum in RELOAD_SIGNALS:
            self._reload_pending = True
        else:
            self.stop_count += 1
        with contextlib.suppress(OSError):  # a full pipe already wakes the reader
            os.write(self._wfd, b"\0")

    def __enter__(self) -> SignalFlags:
        return self.install()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
