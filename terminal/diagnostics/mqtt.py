"""Diagnostics of reporting: MQTT connect/publish/acknowledge round trip per broker, and the outbox."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from terminal.config import Config
from terminal.diagnostics.report import CheckResult
from terminal.errors import TerminalError

log = logging.getLogger(__name__)


def _round_trip(cfg: Config, url_text: str) -> dict[str, Any]:
    """Connect to one broker with the terminal's own credentials/TLS, publish one QoS-1 probe, wait for PUBACK."""
    import paho.mqtt.client as mqtt

    from terminal.report import client_factory as cf
    from terminal.report.credentials import mqtt_password, tls_context
    from terminal.report.topics import Topics
    from terminal.report.urls import parse_broker_url

    # A throw-away session: no stored subscriptions, and a client id that does not kick the daemon off.
    mcfg = cfg.mqtt.model_copy(update={"session_expiry_s": 0})
    url = parse_broker_url(url_text)
    topics = Topics.for_terminal(mcfg.topic_prefix, cfg.terminal.id)
    password = mqtt_password(mcfg) if mcfg.username is not None else None
    tls = tls_context(mcfg) if url.tls else None
    client = cf.new_client(
        mcfg,
        url,
        f"{cfg.terminal.id}-diagnose-{uuid.uuid4().hex[:6]}",
        will_topic=topics.status,
        will_payload={},
        password=password,
        tls=tls,
    )
    client.will_clear()  # never leave a retained "offline" behind for the daemon's status topic
    connected, acked = threading.Event(), threading.Event()
    state: dict[str, Any] = {"url": str(url)}

    def on_connect(_c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        state["connack"] = str(rc)
        state["connack_ok"] = not rc.is_failure
        connected.set()

    def on_publish(_c: Any, _u: Any, _mid: int, rc: Any, _p: Any) -> None:
        state["puback"] = str(rc)
        state["puback_ok"] = not rc.is_failure
        acked.set()

    client.on_connect = on_connect
    client.on_publish = on_publish
    t0 = time.monotonic()
    try:
        cf.connect(client, mcfg, url)
    except OSError as err:
        state["error"] = f"cannot connect: {err.strerror or err}"
        return state
    except ValueError as err:
        state["error"] = str(err)
        return state
    client.loop_start()
    try:
        if not connected.wait(mcfg.connect_timeout_s):
            state["error"] = f"no CONNACK within {mcfg.connect_timeout_s:g} s"
            return state
        state["connect_ms"] = round(1000 * (time.monotonic() - t0))
        if not state["connack_ok"]:
            state["error"] = f"broker refused the connection: {state['connack']}"
            return state
        body = {"type": "diagnose_probe", "terminal_id": cfg.terminal.id, "time": time.time()}
        t1 = time.monotonic()
        info = client.publish(topics.event, json.dumps(body), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            state["error"] = f"publish failed: {mqtt.error_string(info.rc)}"
            return state
        if not acked.wait(mcfg.connect_timeout_s):
            state["error"] = f"no PUBACK within {mcfg.connect_timeout_s:g} s"
            return state
        state["ack_ms"] = round(1000 * (time.monotonic() - t1))
        if not state["puback_ok"]:
            state["error"] = f"broker refused the publish: {state['puback']}"
        return state
    finally:
        with contextlib.suppress(Exception):
            client.disconnect()
        client.loop_stop()


def check_mqtt(cfg: Config) -> CheckResult:
    """Every configured broker: connect, publish a probe at QoS 1, and get its acknowledgement."""
    if not cfg.mqtt.enabled:
        return CheckResult("mqtt", "skip", "mqtt.enabled = false")
    results = []
    for url in cfg.mqtt.brokers:
        try:
            results.append(_round_trip(cfg, url))
        except TerminalError as err:  # credentials or TLS files
            results.append({"url": url, "error": str(err)})
    good = [r for r in results if "error" not in r]
    details = {"brokers": results, "protocol": cfg.mqtt.protocol}
    parts = [
        f"{r['url']} "
        + (f"ok (connect {r['connect_ms']} ms, ack {r['ack_ms']} ms)" if "error" not in r else r["error"])
        for r in results
    ]
    summary = "; ".join(parts)
    if not good:
        return CheckResult("mqtt", "fail", summary, details)
    if len(good) < len(results):
        return CheckResult("mqtt", "warn", summary + " (failover broker down)", details)
    return CheckResult("mqtt", "pass", summary, details)


def _writable(directory: Path) -> str | None:
    """None if a file can be created, synced and removed in ``directory``; else why not."""
    probe = directory / f".diagnose-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"probe")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as err:
        return f"{directory}: {err.strerror or err}"
    return None


def check_outbox(cfg: Config) -> CheckResult:
    """The outbox database opens, its directory is writable, and it is not full; reports its depth."""
    from terminal.report.outbox import Outbox

    path = cfg.outbox.path or Path(cfg.terminal.state_dir) / "outbox.sqlite"
    problem = _writable(path.parent)
    if problem:
        return CheckResult("outbox", "fail", f"not writable: {problem}", {"path": str(path)})
    try:
        with Outbox.from_config(cfg.outbox, cfg.terminal.state_dir) as box:
            stats = box.stats()
    except TerminalError as err:
        return CheckResult("outbox", "fail", str(err), {"path": str(path)})
    stats["path"] = str(path)
    summary = f"{path}: {stats['depth']} waiting ({stats['bytes']} bytes) of max {stats['max_rows']}"
    alarm = stats.get("alarm")
    if alarm == "outbox_full" or not stats.get("accepting", True):
        return CheckResult("outbox", "fail", f"{summary}: FULL, new sessions are refused", stats)
    if alarm:
        return CheckResult("outbox", "warn", f"{summary}: {alarm}", stats)
    return CheckResult("outbox", "pass", summary, stats)
