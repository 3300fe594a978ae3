"""A real mosquitto for tests: free loopback port, generated CA + server cert, password file, ACL, TCP proxy.

Used by tests/report and the daemon tests. ``mosquitto_factory`` (exported in tests/conftest.py) starts
brokers that are stopped by PID at teardown. With ``users`` the broker runs the documented
examples/mosquitto/mosquitto.conf and acl (docs/mqtt.md): user ``central`` writes ``cmd/#`` and reads what
terminals publish; every other user (a terminal, user name = client id = terminal id) writes only its own
status/health/event/result/reply topics and reads only its own ``cmd/#``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CENTRAL_USER, CENTRAL_PASSWORD = "central", "central-secret"

REPO = Path(__file__).resolve().parents[2]
# The broker config and ACL documented in docs/mqtt.md, used as they are (paths and port substituted).
DOC_CONF = REPO / "examples" / "mosquitto" / "mosquitto.conf"
DOC_ACL = REPO / "examples" / "mosquitto" / "acl"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def make_pki(d: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost (openssl CLI, EC P-256)."""
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=terminal-test-ca", "-days", "2")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    # A second, unrelated CA: a client trusting it must refuse our broker.
    run("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-subj", "/CN=other-ca", "-days", "2")
    return {"ca": d / "ca.crt", "cert": d / "server.crt", "key": d / "server.key", "other_ca": d / "other-ca.crt"}


@dataclass
class Mosquitto:
    """One mosquitto process with its generated config; ``restart`` keeps port and persistence."""

    workdir: Path
    tls: bool = False
    users: dict[str, str] | None = None  # None: anonymous allowed, no ACL
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    pki: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """mqtt(s)://127.0.0.1:port."""
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the server certificate."""
        return self.pki["ca"]

    def _write_config(self) -> Path:
        w = self.workdir
        (w / "data").mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "user root",
            "persistence true",
            f"persistence_location {w / 'data'}/",
            "autosave_interval 1800",
            "max_queued_messages 0",
            "max_inflight_messages 100",
            "set_tcp_nodelay true",
            f"log_dest file {w / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if self.tls:
            if not self.pki:
                self.pki = make_pki(w / "pki")
            lines += [f"cafile {self.pki['ca']}", f"certfile {self.pki['cert']}", f"keyfile {self.pki['key']}"]
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            pw = w / "passwd"
            pw.write_text("")
            for user, password in {CENTRAL_USER: CENTRAL_PASSWORD, **self.users}.items():
                subprocess.run(["mosquitto_passwd", "-b", str(pw), user, password], check=True, capture_output=True)
            (w / "acl").write_text(DOC_ACL.read_text())
            lines += documented_lines(pw, w / "acl", tls=self.tls)
        conf = w / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self) -> None:
        """Start (or start again) and wait until the port accepts connections."""
        conf = self._write_config()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            log = self.workdir / "mosquitto.log"
            raise RuntimeError(f"mosquitto did not start: {log.read_text()[-2000:] if log.exists() else ''}") from None

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop by PID (SIGTERM saves the persistence file) and wait for the exit."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()


def documented_lines(passwd: Path, acl: Path, tls: bool) -> list[str]:
    """The settings of examples/mosquitto/mosquitto.conf other than paths, listener and TLS files."""
    replaced = {"password_file": f"password_file {passwd}", "acl_file": f"acl_file {acl}"}
    skip = {
        "listener",
        "cafile",
        "certfile",
        "keyfile",
        "persistence_location",
        "persistence",
        "autosave_interval",
        "max_queued_messages",
        "per_listener_settings",
    }
    out = []
    for line in DOC_CONF.read_text().splitlines():
        key = line.split(" ", 1)[0]
        if not line.strip() or line.startswith("#") or key in skip or (key == "tls_version" and not tls):
            continue
        out.append(replaced.get(key, line))
    return out


class TcpProxy:
    """A loopback TCP forwarder the test controls: ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._up = threading.Event()
        self._up.set()
        self._flowing = threading.Event()  # cleared by stall(): connections stay open, no byte moves
        self._flowing.set()
        self._closed = False
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """Broker URL through the proxy (same scheme as the target's)."""
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()  # link is cut: the terminal sees a reset, like a dead uplink
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while self._flowing.wait() and (data := src.recv(65536)):
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop all connections now and refuse new ones until ``restore``."""
        self._up.clear()
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def restore(self) -> None:
        """Accept connections again."""
        self._up.set()

    def stall(self) -> None:
        """Keep every connection open but move no byte (a dead uplink that does not reset)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Move bytes again after ``stall``."""
        self._flowing.set()

    def close(self) -> None:
        """Stop the proxy."""
        self._closed = True
        self._flowing.set()
        self.cut()
        self._listener.close()


def require_mosquitto() -> None:
    """Fail under CI, skip elsewhere, when mosquitto or openssl is missing."""
    missing = [b for b in (MOSQUITTO, "mosquitto_passwd", "openssl") if not shutil.which(b) and not os.path.exists(b)]
    if missing:
        msg = f"missing {', '.join(missing)} (run ./setup.sh --dev)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """make(tls=False, users=None) -> started Mosquitto; every broker is stopped by PID at teardown."""
    require_mosquitto()
    brokers: list[Mosquitto] = []

    def make(tls: bool = False, users: dict[str, str] | None = None) -> Mosquitto:
        b = Mosquitto(tmp_path / f"broker{len(brokers)}", tls=tls, users=users)
        brokers.append(b)
        b.start()
        return b

    yield make
    for b in brokers:
        b.stop()
