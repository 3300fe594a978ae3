"""The MQTT link of one terminal: status/health/event/result topics, commands, outbox flushing, failover.

One supervisor thread owns the connection: it connects to the broker URLs in turn (exponential backoff with
jitter), drives paho's network loop, publishes the outbox head at QoS 1 within a bounded window and deletes
a row only when its PUBACK carries a success reason code. A fresh paho client per attempt because each URL
may need different TLS settings, and because results must be re-sent from the outbox, never from paho's memory.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from terminal import __version__
from terminal.report import client_factory as cf
from terminal.report.commands import CommandHandler, CommandProcessor
from terminal.report.credentials import mqtt_password, tls_context
from terminal.report.outbox import Outbox
from terminal.report.seen import SeenRequests
from terminal.report.settings import MqttConfig
from terminal.report.templates import TemplateValidator
from terminal.report.topics import Topics
from terminal.report.urls import BrokerUrl, parse_broker_url

log = logging.getLogger(__name__)

HealthProvider = Callable[[], dict[str, Any]]


def now_iso() -> str:
    """UTC time, ISO-8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_result_id(terminal_id: str) -> str:
    """A globally unique result id (terminal id + random UUID) for de-duplication on the central side."""
    return f"{terminal_id}-{uuid.uuid4().hex}"


class MqttLink:
    """Reports results (durably), health and events, and serves commands, over MQTT."""

    def __init__(self, cfg: MqttConfig, terminal_id: str, outbox: Outbox, *, version: str = __version__,
                 client_id: str | None = None, template_validator: TemplateValidator | None = None) -> None:
        self.cfg = cfg
        self.terminal_id = terminal_id
        self.outbox = outbox
        self.version = version
        self.client_id = client_id or terminal_id
        self.topics = Topics.for_terminal(cfg.topic_prefix, terminal_id)
        self.urls: list[BrokerUrl] = [parse_broker_url(u) for u in cfg.brokers]
        # Read credentials and TLS files now so a bad path fails at start, not at the first reconnect.
        self._password = mqtt_password(cfg) if cfg.username is not None else None
        self._tls = tls_context(cfg) if any(u.tls for u in self.urls) else None
        # Served request ids live beside the outbox, so a command re-delivered after a restart is not run twice.
        self.seen = SeenRequests(outbox.path.with_name("requests.sqlite"))
        self.processor = CommandProcessor(max_bytes=cfg.max_command_bytes, dedup_ttl_s=cfg.command_dedup_ttl_s,
                                          require_deadline=cfg.require_deadline, template_validator=template_validator,
                                          seen_store=self.seen)
        self._client: mqtt.Client | None = None
        self._client_lock = threading.Lock()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._clean_stop = True
        self._thread: threading.Thread | None = None
        self._inflight: dict[int, int] = {}  # paho mid -> outbox row id (results only)
        self._acked: list[int] = []
        self._dirty = True
        self._health_provider: HealthProvider | None = None
        self._last_alarm: str | None = None
        self.broker: BrokerUrl | None = None
        self.stats = {"connects": 0, "connect_failures": 0, "published": 0, "acked": 0, "rejected": 0,
                      "events_dropped": 0, "replies_dropped": 0, "flaps": 0}

    # ------------------------------------------------------------------ public API
    @property
    def connected(self) -> bool:
        """True while a broker session is up."""
        return self._connected.is_set()

    @property
    def outbox_depth(self) -> int:
        """Results stored and not yet acknowledged."""
        return self.outbox.count()

    def set_command_handler(self, fn: CommandHandler) -> None:
        """Handler of validated commands: fn(name, payload, reply); ``ping`` is answered by the link."""
        self.processor.handler = fn

    def set_health_provider(self, fn: HealthProvider) -> None:
        """Source of the periodic health fields (uptime, camera fps, light, CPU temperature, versions)."""
        self._health_provider = fn

    def start(self) -> None:
        """Start the supervisor thread and return at once; results are kept in the outbox until delivered."""
        if not self.cfg.enabled:
            log.info("mqtt.enabled is false: results stay in the outbox %s", self.outbox.path)
            return
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.terminal_id}", daemon=True)
        self._thread.start()

    def stop(self, clean: bool = True, timeout: float | None = None) -> None:
        """Stop; clean: flush the outbox for up to stop_flush_s, publish ``stopped`` and disconnect (no will)."""
        self._clean_stop = clean
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.cfg.stop_flush_s + self.cfg.connect_timeout_s + 5)
            self._thread = None

    def publish_result(self, record: dict[str, Any]) -> str:
        """Store the result durably in the outbox FIRST (OutboxFullError if refused), then send it; its id."""
        rid = str(record.get("result_id") or new_result_id(self.terminal_id))
        payload = {**record, "result_id": rid}
        payload.setdefault("terminal_id", self.terminal_id)
        payload.setdefault("queued_at", now_iso())
        self.outbox.put(rid, "result", payload)
        self._dirty = True
        return rid

    def publish_event(self, event: dict[str, Any]) -> bool:
        """Send a guidance/progress event at QoS 0; dropped (False) while offline."""
        body = {"terminal_id": self.terminal_id, "ts": now_iso(), **event}
        if self._publish(self.topics.event, body, qos=0) is None:
            self.stats["events_dropped"] += 1
            return False
        return True

    def publish_health(self, health: dict[str, Any] | None = None) -> bool:
        """Send a health message (given fields + outbox and link state); logs outbox alarms to the journal."""
        out = self.outbox.stats()
        if out["alarm"] != self._last_alarm:
            if out["alarm"]:
                log.warning("outbox alarm %s: %d results waiting (%d bytes), policy %s", out["alarm"],
                            out["depth"], out["bytes"], out["policy"])
            self._last_alarm = out["alarm"]
        body = {"terminal_id": self.terminal_id, "ts": now_iso(), "version": self.version, **(health or {}),
                "outbox": out, "alarms": [out["alarm"]] if out["alarm"] else [],
                "link": {"broker": str(self.broker) if self.broker else None, "protocol": self.cfg.protocol,
                         **self.stats}}
        return self._publish(self.topics.health, body, qos=0, retain=True) is not None

    # ------------------------------------------------------------------ publishing helpers
    def _publish(self, topic: str, body: dict[str, Any], qos: int, retain: bool = False,
                 props: Any = None) -> mqtt.MQTTMessageInfo | None:
        with self._client_lock:
            client = self._client if self._connected.is_set() else None
        if client is None:
            return None
        if props is None and cf.is_v5(self.cfg):
            props = cf.json_properties()
        try:
            info = client.publish(topic, json.dumps(body, separators=(",", ":")), qos=qos, retain=retain,
                                  properties=props)
        except (ValueError, RuntimeError) as err:
            log.warning("publish to %s failed: %s", topic, err)
            return None
        return info if info.rc == mqtt.MQTT_ERR_SUCCESS else None

    def _status(self, state: str) -> dict[str, Any]:
        return {"state": state, "terminal_id": self.terminal_id, "version": self.version, "ts": now_iso()}

    def _reply_fn(self, msg: mqtt.MQTTMessage) -> Callable[[dict[str, Any]], None]:
        props = getattr(msg, "properties", None)
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        if response_topic and any(c in response_topic for c in "+#"):
            response_topic = None  # a wildcard is not a topic name; fall back to our reply topic

        def reply(body: dict[str, Any]) -> None:
            topic = response_topic or self.topics.reply(body.get("request_id"))
            p = cf.reply_properties(correlation) if cf.is_v5(self.cfg) else None
            if self._publish(topic, body, qos=1, props=p) is None:
                self.stats["replies_dropped"] += 1
                log.warning("reply to %s dropped: not connected", body.get("request_id"))

        return reply

    # ------------------------------------------------------------------ paho callbacks (supervisor thread)
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: ReasonCode, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker %s refused the connection: %s", self.broker, rc)
            return
        client.subscribe(self.topics.commands, qos=1)
        client.publish(self.topics.status, json.dumps(self._status("online")), qos=1, retain=True)
        self._inflight.clear()
        self._dirty = True
        self._connected.set()
        self.stats["connects"] += 1
        log.info("connected to %s (session present: %s)", self.broker, bool(flags.session_present))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected from %s: %s", self.broker, rc)

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        row = self._inflight.pop(mid, None)
        if row is None:
            return
        # MQTT 5: codes < 0x80 are success, including 16 "no matching subscribers"; 135 etc. are refusals.
        if rc.is_failure:
            self.stats["rejected"] += 1
            self.outbox.mark_failed(row, f"PUBACK {rc.value} {rc}", self.cfg.reject_retry_s)
            log.error("broker refused result row %d: %s; kept, retried in %.0f s", row, rc, self.cfg.reject_retry_s)
        else:
            self._acked.append(row)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        name = self.topics.command_name(msg.topic)
        self.processor.handle(name, bytes(msg.payload), self._reply_fn(msg))

    # ------------------------------------------------------------------ supervisor
    def _run(self) -> None:
        attempt, index = 0, 0
        while not self._stop.is_set():
            url = self.urls[index % len(self.urls)]
            client = self._try_connect(url)
            if client is None:
                attempt += 1
                index += 1  # fail over to the next URL
                delay = min(self.cfg.backoff_max_s, self.cfg.backoff_min_s * 2 ** min(attempt - 1, 20))
                self._stop.wait(delay * random.uniform(0.5, 1.0))  # jitter: a fleet must not reconnect in step
                continue
            up_since = time.monotonic()
            self._serve(client)
            if time.monotonic() - up_since > 10:
                attempt = 0
                self.stats["flaps"] = 0
            else:
                attempt += 1  # a connection that drops at once (flapping) still backs off
                self.stats["flaps"] += 1
                if self.stats["flaps"] == 3:
                    # Mosquitto closes the session when it refuses a publish: an ACL that does not match our
                    # topics looks like an endless reconnect loop, with no PUBACK refusal ever seen.
                    log.error("broker %s drops the session right after connecting (3 times in a row): check that its "
                              "ACL lets user %r publish to %s/# and the credentials; 'terminal diagnose' tests it",
                              url, self.cfg.username, self.topics.prefix,
                              extra={"journal": {"RESULT": "mqtt_flapping", "REASON": "MQTT_ACL"}})
                self._stop.wait(min(self.cfg.backoff_max_s, self.cfg.backoff_min_s * 2 ** min(attempt - 1, 20)))
        self._connected.clear()

    def _try_connect(self, url: BrokerUrl) -> mqtt.Client | None:
        self.broker = url
        try:
            client = cf.new_client(self.cfg, url, self.client_id, will_topic=self.topics.status,
                                   will_payload=self._status("offline"), password=self._password, tls=self._tls)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
            client.on_message = self._on_message
            with self._client_lock:
                self._client = client
            cf.connect(client, self.cfg, url)
            deadline = time.monotonic() + self.cfg.connect_timeout_s
            rc = mqtt.MQTT_ERR_SUCCESS
            while not self._connected.is_set() and time.monotonic() < deadline and not self._stop.is_set():
                rc = client.loop(timeout=0.1)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    break
            if self._connected.is_set():
                return client
            log.warning("no session with %s (%s)", url, "timeout" if rc == mqtt.MQTT_ERR_SUCCESS else mqtt.error_string(rc))
        except (OSError, ValueError) as err:  # ssl.SSLError and socket errors are OSErrors
            log.warning("cannot connect to %s: %s", url, err)
        self.stats["connect_failures"] += 1
        self._drop(client if "client" in locals() else None)
        return None

    def _drop(self, client: mqtt.Client | None) -> None:
        with self._client_lock:
            self._client = None
        self._connected.clear()
        self._inflight.clear()
        if client is not None:
            try:
                sock = client.socket()
                if sock is not None:
                    sock.close()  # no DISCONNECT: the broker publishes our will
            except OSError:
                pass

    def _serve(self, client: mqtt.Client) -> None:
        next_health = time.monotonic()
        while self._connected.is_set():
            if self._stop.is_set():
                self._shutdown(client)
                return
            client.loop(timeout=0.05)
            self._commit_acks()
            if not self._connected.is_set():
                break
            self._flush(client)
            if time.monotonic() >= next_health:
                next_health = time.monotonic() + self.cfg.health_interval_s
                self._periodic_health()
        self._commit_acks()
        self._drop(client)

    def _commit_acks(self) -> None:
        if self._acked:
            acked, self._acked = self._acked, []
            n = self.outbox.ack_many(acked)  # one fsync for a batch of PUBACKs
            self.stats["acked"] += n
            self._dirty = True

    def _flush(self, client: mqtt.Client) -> None:
        room = self.cfg.max_inflight - len(self._inflight)
        if room <= 0 or not self._dirty:
            return
        self._dirty = False
        sent = set(self._inflight.values())
        for item in self.outbox.pending(limit=room + len(sent)):
            if item.row_id in sent:
                continue
            props = cf.json_properties({"result_id": item.result_id}) if cf.is_v5(self.cfg) else None
            info = client.publish(self.topics.sub(item.topic_suffix), item.payload, qos=1, properties=props)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._dirty = True
                return
            self._inflight[info.mid] = item.row_id
            self.stats["published"] += 1
        if len(self._inflight) < self.cfg.max_inflight and self.outbox.count() > len(self._inflight):
            self._dirty = True  # held rows may come due; cheap to look again next turn

    def _periodic_health(self) -> None:
        extra: dict[str, Any] = {}
        if self._health_provider is not None:
            try:
                extra = self._health_provider()
            except Exception:
                log.exception("health provider failed")
        self.publish_health(extra)

    def _shutdown(self, client: mqtt.Client) -> None:
        if self._clean_stop:
            end = time.monotonic() + self.cfg.stop_flush_s
            while self._connected.is_set() and time.monotonic() < end and (self.outbox.count() or self._inflight):
                self._flush(client)
                client.loop(timeout=0.05)
                self._commit_acks()
            info = client.publish(self.topics.status, json.dumps(self._status("stopped")), qos=1, retain=True)
            end = time.monotonic() + 2.0
            while self._connected.is_set() and not info.is_published() and time.monotonic() < end:
                client.loop(timeout=0.05)
            self._commit_acks()
            client.disconnect()
            if client.socket() is not None:  # paho logs an ERROR when looping a closed client
                client.loop(timeout=0.1)
            with self._client_lock:
                self._client = None
            self._connected.clear()
        else:
            self._drop(client)
        left = self.outbox.count()
        if left:
            log.info("stopped with %d result(s) in the outbox; they are sent after the next start", left)
