"""Test-side listeners: a datagram socket standing in for systemd's notify socket or journald."""

from __future__ import annotations

import array
import contextlib
import os
import socket
import tempfile
import time
from pathlib import Path


class DatagramListener:
    """An AF_UNIX datagram socket the test owns (filesystem path or abstract name) that records what arrives."""

    def __init__(self, abstract: bool = False, name: str = "sock") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.name = f"terminal-test-{os.getpid()}-{id(self)}"
            self.sock.bind(b"\0" + self.name.encode())
            self.env_value = "@" + self.name
            self._dir: str | None = None
        else:
            # A short directory: AF_UNIX paths are limited to 108 bytes and pytest's tmp_path can be long.
            self._dir = tempfile.mkdtemp(prefix="tt-", dir="/tmp")
            self.path = Path(self._dir) / name
            self.sock.bind(str(self.path))
            self.env_value = str(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def receive(self, timeout: float = 1.0) -> bytes | None:
        """One datagram, or None if nothing arrives within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1 << 20)
        except TimeoutError:
            return None

    def receive_with_fds(self, timeout: float = 1.0) -> tuple[bytes, list[int]] | None:
        """One datagram plus the file descriptors passed with it (SCM_RIGHTS)."""
        self.sock.settimeout(timeout)
        fds = array.array("i")
        try:
            data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(16 * fds.itemsize))
        except TimeoutError:
            return None
        for level, kind, cdata in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        return data, list(fds)

    def drain(self, wait: float = 0.05) -> list[bytes]:
        """Everything queued now (waiting ``wait`` seconds for stragglers)."""
        out = []
        deadline = time.monotonic() + wait
        while True:
            msg = self.receive(max(0.001, deadline - time.monotonic()))
            if msg is None:
                return out
            out.append(msg)

    def close(self) -> None:
        """Close and remove the socket file."""
        self.sock.close()
        if self._dir is not None:
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(self._dir)
            self._dir = None


def dgram_queue_length() -> int:
    """net.unix.max_dgram_qlen: datagrams a socket queues before senders block (10 here, 512 under systemd)."""
    try:
        return int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    except (OSError, ValueError):
        return 512
