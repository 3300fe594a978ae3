"""``terminal monitor``: subscribe to the fleet's topics and print status, events and results readably."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.cli.common import add_config_arg, config_from_args
from terminal.errors import ReportError
from terminal.report.credentials import mqtt_password, tls_context
from terminal.report.urls import parse_broker_url
from terminal.security.envelope import is_envelope, peek_request_id

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``monitor`` subcommand."""
    p = sub.add_parser("monitor", help="print the fleet's MQTT status, health, events and results")
    p.add_argument("--broker", default=None, help="broker URL (default: the first of mqtt.brokers)")
    p.add_argument("--topic", action="append", default=None, help="topic filter (default: terminal/+/#)")
    p.add_argument(
        "--username",
        default=None,
        help="user (default: mqtt.username); password from $TERMINAL_MQTT_PASSWORD or the credential file",
    )
    p.add_argument("--json", action="store_true", help="one JSON line per message (topic + payload)")
    p.add_argument("--count", type=int, default=None, help="exit after N messages")
    p.add_argument("--seconds", type=float, default=None, help="exit after S seconds")
    add_config_arg(p)
    p.set_defaults(func=run)


BIOMETRIC_KEYS = frozenset({"template", "embedding", "embeddings"})


def redact(value: Any, depth: int = 0) -> Any:
    """``value`` with templates and embeddings replaced, at any depth, and signed commands' payloads hidden."""
    if depth > 32:
        return "<redacted: too deep>"
    if isinstance(value, dict):
        if is_envelope(value):  # a signed command: its base64 payload holds the verify's template
            return {"signed_command": True, "request_id": peek_request_id(value), "payload": "<redacted>"}
        return {k: "<redacted>" if k in BIOMETRIC_KEYS else redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value]
    return value


def _kind(topic: str) -> str:
    """``result``, ``cmd/verify``... from ``terminal/<id>/<kind>...``."""
    parts = topic.split("/")
    return "/".join(parts[2:]) if len(parts) >= 3 else topic


def shown(topic: str, value: Any) -> Any:
    """``value`` as a technician may see it: ``redact`` plus a start request's NIK/KPJ masked (as ``outbox list``)."""
    value = redact(value)
    if _kind(topic) == "request" and isinstance(value, dict) and "number" in value:
        value["number"] = "*" * len(str(value["number"]))
    return value


def _fmt(topic: str, raw: bytes, retained: bool) -> str:
    """One readable line for a message on ``terminal/<id>/<kind>...``."""
    parts = topic.split("/")
    who, kind = (parts[1], "/".join(parts[2:])) if len(parts) >= 3 else ("?", topic)
    try:
        p: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return f"{who:<16} {kind:<10} (not JSON, {len(raw)} bytes)"
    p = shown(topic, p)
    if not isinstance(p, dict):
        return f"{who:<16} {kind:<10} {p!r}"
    mark = " (retained)" if retained else ""
    if kind == "status":
        text = f"{p.get('state', '?').upper()} version {p.get('version', '?')}{mark}"
    elif kind == "result":
        keys = ("decision", "score", "reason", "member_ref", "request_id")
        text = f"{p.get('result_id')} " + " ".join(f"{k}={p[k]}" for k in keys if k in p)
    elif kind == "health":
        ob = p.get("outbox", {})
        alarms = ",".join(p.get("alarms", [])) or "none"
        extra = " ".join(f"{k}={p[k]}" for k in ("uptime_s", "camera_fps", "light", "cpu_temp_c") if k in p)
        text = f"outbox={ob.get('depth')} alarms={alarms} {extra}{mark}"
    elif kind.startswith("reply"):
        err = p.get("error") or {}
        text = f"{p.get('request_id')} {'ok' if p.get('ok') else 'ERROR ' + str(err.get('code'))} {p.get('command')}"
    elif kind == "request":  # a member started at the keypad: the number stays masked
        rkeys = ("kind", "number", "timeout_s")
        text = f"{p.get('request_id')} " + " ".join(f"{k}={p[k]}" for k in rkeys if k in p)
        text += " (signed)" if p.get("signed_command") else ""
    elif kind.startswith("cmd/"):
        text = f"request_id={p.get('request_id')}"  # never print a verify's template
    else:
        text = " ".join(f"{k}={v}" for k, v in p.items() if k not in ("terminal_id", "ts"))
    return f"{who:<16} {kind:<10} {text}"


def run(args: argparse.Namespace) -> int:
    """Connect, subscribe and print until interrupted, --count or --seconds."""
    cfg = config_from_args(args).mqtt
    if args.username:
        cfg = cfg.model_copy(update={"username": args.username})
    url = parse_broker_url(args.broker) if args.broker else parse_broker_url(cfg.brokers[0])
    topics = args.topic or ["terminal/+/#"]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    if cfg.username:
        client.username_pw_set(cfg.username, mqtt_password(cfg))
    if url.tls:
        client.tls_set_context(tls_context(cfg))
    seen, done, ready = [0], threading.Event(), threading.Event()

    def on_connect(c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            print(f"broker refused: {rc}", file=sys.stderr)
            done.set()
            return
        for t in topics:
            c.subscribe(t, qos=1)
        ready.set()

    def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if args.json:
            try:
                payload: Any = json.loads(msg.payload)
            except (ValueError, RecursionError):
                payload = None
            line = json.dumps({"topic": msg.topic, "retained": bool(msg.retain), "payload": shown(msg.topic, payload)})
        else:
            line = f"{datetime.now().strftime('%H:%M:%S')} {_fmt(msg.topic, bytes(msg.payload), bool(msg.retain))}"
        print(line, flush=True)
        seen[0] += 1
        if args.count is not None and seen[0] >= args.count:
            done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(url.host, url.port, 30)
    except OSError as err:
        raise ReportError(f"cannot connect to {url}: {err}") from None
    client.loop_start()
    end = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while not done.is_set() and (end is None or time.monotonic() < end):
            done.wait(0.2)
    finally:
        client.disconnect()
        client.loop_stop()
    return 0 if ready.is_set() else 1
