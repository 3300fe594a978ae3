"""Black-box harness: ``terminal run`` as systemd runs it, and a central system talking to it over MQTT.

Used by tests/daemon/test_faults.py (small, bounded runs) and bench/fault_run.py, bench/fuzz_commands.py (the
figures). The daemon gets a notify socket whose WATCHDOG=1 arrivals are time-stamped; the central client is a
persistent MQTT 5 session that sends each command with its own response topic and correlation data, so every
reply is matched to exactly the command it answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.daemon.sockets import DatagramListener

REPO = Path(__file__).resolve().parents[2]


class Notify:
    """A notify socket recording every sd_notify line with its arrival time (a thread drains it)."""

    def __init__(self) -> None:
        self.listener = DatagramListener()
        self.lines: list[tuple[float, str]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop:
            msg = self.listener.receive(0.2)
            if msg:
                now = time.monotonic()
                self.lines += [(now, line) for line in msg.decode().splitlines()]

    def pings(self, since: float = 0.0) -> list[float]:
        """Arrival times of WATCHDOG=1."""
        return [t for t, line in list(self.lines) if line == "WATCHDOG=1" and t >= since]

    def has(self, prefix: str, since: float = 0.0) -> bool:
        """True once a line starting with ``prefix`` arrived after ``since``."""
        return any(line.startswith(prefix) and t >= since for t, line in list(self.lines))

    def close(self) -> None:
        """Stop draining and remove the socket."""
        self._stop = True
        self._thread.join(1)
        self.listener.close()


class DaemonProc:
    """``python -m terminal run`` with NOTIFY_SOCKET and WATCHDOG_USEC, restartable after a kill."""

    def __init__(self, config: Path, notify: Notify, watchdog_s: float = 3.0) -> None:
        self.config = config
        self.notify = notify
        self.watchdog_s = watchdog_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log = config.parent / "daemon.log"

    def start(self) -> None:
        """Start (again); output appended to daemon.log."""
        env = {
            **os.environ,
            "NOTIFY_SOCKET": self.notify.listener.env_value,
            "WATCHDOG_USEC": str(int(self.watchdog_s * 1e6)),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WATCHDOG_PID", None)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terminal", "--log-level", "info", "run", "--config", str(self.config)],
            env=env,
            cwd=REPO,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.starts += 1

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until READY=1 after this start."""
        end = time.monotonic() + timeout
        while not self.notify.has("READY=1", self.started_at):
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"daemon not ready; log:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL (no cleanup at all, as a crash or power loss)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    @property
    def alive(self) -> bool:
        """Running right now."""
        return self.proc is not None and self.proc.poll() is None


class Central:
    """The central system: a persistent MQTT 5 session; commands carry a response topic and correlation data."""

    def __init__(self, port: int, terminal_id: str, client_id: str = "central-harness") -> None:
        self.tid = terminal_id
        self.prefix = f"terminal/{terminal_id}"
        self.reply_topic = f"{self.prefix}/reply/central"
        self.lock = threading.Condition()
        self.replies: dict[str, list[dict[str, Any]]] = {}  # correlation -> replies
        self.results: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.health: list[dict[str, Any]] = []
        self.seq = 0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600  # persistent: nothing published while we are away is lost
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", port, 30, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.connected.wait(10), "central did not connect"
        time.sleep(0.3)  # SUBACKs

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        for topic in (
            f"{self.prefix}/result",
            f"{self.prefix}/reply/#",
            f"{self.prefix}/event",
            f"{self.prefix}/health",
        ):
            client.subscribe(topic, qos=1)
        self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        with self.lock:
            if msg.topic.endswith("/result"):
                self.results.append(body)
            elif msg.topic.endswith("/event"):
                self.events.append(body)
            elif msg.topic.endswith("/health"):
                self.health.append(body)
            else:
                corr = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
                key = corr.decode() if isinstance(corr, bytes) else f"topic:{msg.topic}"
                self.replies.setdefault(key, []).append(body)
            self.lock.notify_all()

    def send(self, name: str, body: dict[str, Any] | bytes, wait: float | None = 10.0) -> dict[str, Any] | None:
        """Publish a command (QoS 1) with its own correlation; wait for its reply (None on timeout)."""
        self.seq += 1
        key = f"c{self.seq}"
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.reply_topic
        props.CorrelationData = key.encode()
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(f"{self.prefix}/cmd/{name}", raw, qos=1, properties=props)
        if wait is None:
            return None
        return self.wait_reply(key, wait)

    def wait_reply(self, key: str, timeout: float) -> dict[str, Any] | None:
        """The first reply with correlation ``key``."""
        end = time.monotonic() + timeout
        with self.lock:
            while not self.replies.get(key):
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(min(left, 0.1))
            return self.replies[key][0]

    def results_for(self, request_id: str) -> list[dict[str, Any]]:
        """Results received for a request id (duplicates included)."""
        with self.lock:
            return [r for r in self.results if r.get("request_id") == request_id]

    def close(self) -> None:
        """Disconnect (the broker keeps the session)."""
        self.client.disconnect()
        self.client.loop_stop()


def daemon_config(tmp: Path, broker_url: str, clip: Path, tid: str, *, extra: str = "") -> Path:
    """A daemon config for fault runs: replay camera, MQTT 5 on loopback, mock GPIO, fast reconnects."""
    text = f"""[terminal]
id = "{tid}"
state_dir = "{tmp / "state"}"
[camera]
backend = "replay"
source = "{clip}"
fps = 24.0
[mqtt]
brokers = ["{broker_url}"]
health_interval_s = 2.0
backoff_min_s = 0.2
backoff_max_s = 1.0
connect_timeout_s = 3.0
keepalive_s = 5
allow_insecure = true
[security]
require_signed_commands = false
[light]
pin_factory = "mock"
[session]
timeout_s = 20.0
# a recording answers the one blink it shows, prompted at once (it cannot answer a random plan)
plan = ["blink"]
prompt_delay_s = [0.0, 0.0]
[daemon]
command_wait_s = 20.0
diagnose_min_interval_s = 2.0
{extra}
"""
    path = tmp / "config.toml"
    path.write_text(text)
    return path
