"""Test helpers for tests/report: valid templates and a subscriber that records what arrives."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.matching.template import Template
from tests.support.broker import CENTRAL_PASSWORD, CENTRAL_USER, Mosquitto

MODEL = "mobilefacenet_sirius_128d_fp16"


def template_dict(dim: int = 128, model: str = MODEL, count: int = 2, seed: int = 0) -> dict[str, Any]:
    """A real template in terminal.matching's format (random unit embeddings)."""
    rng = np.random.default_rng(seed)
    return Template(model, "1", rng.normal(size=(count, dim)).astype(np.float32)).to_dict("float16")


class Central:
    """A central-side client (user ``central`` when the broker has users) recording messages by topic."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: str | list[str] = "terminal/#",
        *,
        client_id: str = "central",
        persistent: bool = False,
        port: int | None = None,
    ) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if broker.users is not None:
            self.client.username_pw_set(CENTRAL_USER, CENTRAL_PASSWORD)
        if broker.tls:
            self.client.tls_set_context(ssl.create_default_context(cafile=str(broker.ca_file)))
        self._topics = [topics] if isinstance(topics, str) else topics
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.ready = threading.Event()  # set once the broker has confirmed (SUBACK) every subscription
        self._sub_lock = threading.Lock()
        self._pending_subs: set[int] = set()
        self.refused: list[tuple[int, Any]] = []
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600 if persistent else 0
        self.client.connect("127.0.0.1", port or broker.port, 30, clean_start=not persistent, properties=props)
        self.client.loop_start()
        assert self.ready.wait(10), f"central client did not connect and subscribe (refused: {self.refused})"

    def _on_connect(self, client: mqtt.Client, *_a: Any) -> None:
        with self._sub_lock:  # SUBACKs are handled on this same network thread, but keep the set consistent
            self.ready.clear()
            self._pending_subs.clear()
            for t in self._topics:
                rc, mid = client.subscribe(t, qos=1)
                assert rc == mqtt.MQTT_ERR_SUCCESS and mid is not None, f"SUBSCRIBE {t} not sent: {rc}"
                self._pending_subs.add(mid)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: list[Any], _p: Any) -> None:
        with self._sub_lock:
            if mid not in self._pending_subs:
                return
            self._pending_subs.discard(mid)
            failed = [rc for rc in reason_codes if rc.is_failure]
            if failed:
                self.refused.append((mid, failed))
            elif not self._pending_subs and not self.refused:
                self.ready.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()

    def on(self, suffix: str) -> list[dict[str, Any]]:
        """Decoded JSON payloads of messages whose topic contains ``suffix``."""
        with self.cond:
            msgs = list(self.messages)
        return [json.loads(m.payload) for m in msgs if suffix in m.topic]

    def wait_for(
        self, suffix: str, pred: Any = lambda p: True, n: int = 1, timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """Wait until ``n`` payloads on ``suffix`` satisfy ``pred``; returns them (AssertionError on timeout)."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [p for p in self._decoded(suffix) if pred(p)]
                if len(got) >= n or time.monotonic() > end:
                    break
                self.cond.wait(0.1)
        assert len(got) >= n, f"only {len(got)}/{n} messages on *{suffix}: {got[-3:]}"
        return got

    def _decoded(self, suffix: str) -> list[dict[str, Any]]:
        out = []
        for m in self.messages:
            if suffix in m.topic:
                with contextlib.suppress(ValueError):
                    out.append(json.loads(m.payload))
        return out

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def write_secret(tmp: Path, name: str, value: str) -> Path:
    """A credentials directory holding one secret file."""
    d = tmp / "creds"
    d.mkdir(exist_ok=True)
    (d / name).write_text(value + "\n")
    return d
