"""sd_notify(3) over $NOTIFY_SOCKET, and a watchdog that only pings while camera frames are flowing.

The protocol is one AF_UNIX datagram of ``KEY=value`` lines to the socket systemd names in
``$NOTIFY_SOCKET`` (a path, or an abstract socket written with a leading ``@``). Outside systemd the
variable is unset and every call is a cheap no-op, so the daemon never needs to know how it was started.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

ENV_SOCKET = "NOTIFY_SOCKET"
ENV_WATCHDOG_USEC = "WATCHDOG_USEC"
ENV_WATCHDOG_PID = "WATCHDOG_PID"
SEND_TIMEOUT_S = 1.0


def _socket_address(path: str) -> str | bytes:
    """Turn $NOTIFY_SOCKET into an address for sendto(): ``@name`` is the abstract socket ``\\0name``."""
    if path.startswith("@"):
        return b"\0" + path[1:].encode()
    return path


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """The watchdog timeout in seconds from $WATCHDOG_USEC, or None when no watchdog is armed for us.

    Like sd_watchdog_enabled(3): a WATCHDOG_PID naming another process (a child that inherited the
    environment) means the watchdog is not ours; zero, negative or garbage values mean disabled.
    """
    env = os.environ if env is None else env
    raw = env.get(ENV_WATCHDOG_USEC, "").strip()
    if not raw:
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring malformed %s=%r", ENV_WATCHDOG_USEC, raw)
        return None
    if usec <= 0:
        return None
    owner = env.get(ENV_WATCHDOG_PID, "").strip()
    if owner:
        try:
            if int(owner) != (os.getpid() if pid is None else pid):
                return None
        except ValueError:
            log.warning("ignoring malformed %s=%r", ENV_WATCHDOG_PID, owner)
            return None
    return usec / 1_000_000


class Notifier:
    """Sends sd_notify messages (READY=1, STATUS=, STOPPING=1, WATCHDOG=1, ...) to systemd.

    ``Notifier()`` reads $NOTIFY_SOCKET; when it is unset ``enabled`` is False and every method returns
    False without doing anything. Send failures are logged once and never raised: a daemon must not die
    because its supervisor went away. Thread-safe (one lock around the socket).
    """

    def __init__(
        self, socket_path: str | None = None, env: Mapping[str, str] | None = None, send_timeout: float = SEND_TIMEOUT_S
    ) -> None:
        env = os.environ if env is None else env
        self.send_timeout = send_timeout
        path = socket_path if socket_path is not None else env.get(ENV_SOCKET, "")
        self.socket_path = path or None
        self._address = _socket_address(path) if path else None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False
        self.sent = 0
        self.last_status: str | None = None

    @property
    def enabled(self) -> bool:
        """True when running under a supervisor that listens for notifications."""
        return self._address is not None

    def notify(self, *assignments: str, **fields: str | int) -> bool:
        """Send ``KEY=value`` assignments in one datagram; True if it was delivered to the socket."""
        lines = list(assignments) + [f"{k}={v}" for k, v in fields.items()]
        for line in lines:
            if "\n" in line:
                # One assignment per line: a newline inside a value would forge another assignment.
                raise ValueError(f"sd_notify value must be a single line: {line!r}")
        if self._address is None or not lines:
            return False
        payload = "\n".join(lines).encode()
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                    # A supervisor that stops reading must not freeze the frame loop in sendto().
                    self._sock.settimeout(self.send_timeout)
                self._sock.sendto(payload, self._address)
            except OSError as err:
                if not self._warned:
                    self._warned = True
                    log.warning("sd_notify to %s failed: %s (further failures are not logged)", self.socket_path, err)
                return False
            self.sent += 1
            return True

    def ready(self, status: str | None = None) -> bool:
        """Tell systemd start-up is complete (READY=1), optionally with a status line."""
        if status is not None:
            self.last_status = status
            return self.notify("READY=1", f"STATUS={status}")
        return self.notify("READY=1")

    def status(self, text: str) -> bool:
        """Set the free-form status line shown by ``systemctl status`` (skipped when unchanged)."""
        text = " ".join(text.split())  # single line; systemd shows it verbatim
        if text == self.last_status:
            return False
        self.last_status = text
        return self.notify(f"STATUS={text}")

    def stopping(self, status: str | None = None) -> bool:
        """Tell systemd the service is shutting down (STOPPING=1)."""
        extra = [f"STATUS={status}"] if status else []
        return self.notify("STOPPING=1", *extra)

    def reloading(self) -> bool:
        """Tell systemd a configuration reload started; follow with ready() when it is done."""
        return self.notify("RELOADING=1")

    def watchdog(self) -> bool:
        """Keep-alive ping (WATCHDOG=1). Call it only from the loop whose progress it vouches for."""
        return self.notify("WATCHDOG=1")

    def watchdog_trigger(self) -> bool:
        """Ask systemd to act as if the watchdog timed out (WATCHDOG=trigger): a deliberate restart."""
        return self.notify("WATCHDOG=trigger")

    def close(self) -> None:
        """Close the socket (a later notify() reopens it)."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


class FrameWatchdog:
    """Pings systemd's watchdog from the frame loop, and only while new frames keep arriving.

    The frame loop calls ``frame_arrived(frame.timestamp)`` for every frame. A ping goes out at most every
    ``interval / 2`` seconds of monotonic time, and only for a frame whose timestamp moved forward: a
    camera that hangs (no frames) or repeats a stale buffer (same timestamp) stops the pings, and systemd
    restarts the service after WatchdogSec. There is deliberately no timer thread: a thread would keep
    pinging while the camera is stuck and hide exactly the failure the watchdog exists to catch.
    """

    def __init__(
        self, notifier: Notifier, interval: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.notifier = notifier
        self.interval = watchdog_interval() if interval is None else interval
        self._clock = clock
        self._last_ping: float | None = None
        self._last_ts: float | None = None
        self._last_frame_at: float | None = None
        self.pings = 0

    @property
    def enabled(self) -> bool:
        """True when systemd armed a watchdog and a notify socket exists."""
        return bool(self.interval) and self.notifier.enabled

    @property
    def ping_every(self) -> float:
        """Seconds between pings: half the watchdog timeout, as sd_watchdog_enabled(3) recommends."""
        return (self.interval or 0.0) / 2

    def frame_arrived(self, ts: float | None = None) -> bool:
        """Record a frame (its timestamp, if known); send WATCHDOG=1 when due. True if a ping was sent."""
        if ts is not None:
            if self._last_ts is not None and ts <= self._last_ts:
                return False  # a stale or repeated buffer is not progress
            self._last_ts = ts
        now = self._clock()
        self._last_frame_at = now
        return self._ping(now)

    def camera_down(self) -> bool:
        """The frame loop is alive and handling a *reported* camera failure (it raised, it is being retried):
        ping when due. The daemon calls this only for a bounded grace period, then lets systemd restart it; a
        camera that hangs inside read() never gets here, so it still stops the pings at once."""
        return self._ping(self._clock())

    def _ping(self, now: float) -> bool:
        if not self.enabled:
            return False
        if self._last_ping is not None and now - self._last_ping < self.ping_every:
            return False
        if self.notifier.watchdog():
            self._last_ping = now
            self.pings += 1
            return True
        return False

    def seconds_since_frame(self) -> float | None:
        """Monotonic seconds since the last new frame (None before the first): for status and health."""
        if self._last_frame_at is None:
            return None
        return self._clock() - self._last_frame_at
