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
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from terminal import __version__
from terminal.report import client_factory as cf
from terminal.report.commands import CommandHandler, processor_for
from terminal.report.credentials import mqtt_password, tls_context
from terminal.report.link_state import health_body, link_state, log_flapping
from terminal.report.outbox import Outbox
from terminal.report.reply_tracking import ReplyTracker, response_topic
from terminal.report.results import Security, finalise_result, stored_form
from terminal.report.seen import SeenRequests
from terminal.report.settings import MqttConfig
from terminal.report.templates import TemplateValidator
from terminal.report.topics import Topics
from terminal.report.urls import BrokerUrl, parse_broker_url
from terminal.stamps import utc_iso

log = logging.getLogger(__name__)

HealthProvider = Callable[[], dict[str, Any]]
__all__ = ["MqttLink"]


class MqttLink:
    """Reports results (durably), health and events, and serves commands, over MQTT."""

    def __init__(self, cfg: MqttConfig, terminal_id: str, outbox: Outbox, *, version: str = __version__,
                 client_id: str | None = None, template_validator: TemplateValidator | None = None,
                 security: Security | None = None) -> None:
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
        self.security = security  # None: results unsigned, commands unauthenticated (tests, tools; never the daemon)
        self.seen = SeenRequests(outbox.path.with_name("requests.sqlite"), max_entries=cfg.max_request_ids)
        self.processor = processor_for(cfg, self.seen, template_validator, security)
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
                      "events_dropped": 0, "replies_dropped": 0, "replies_unacked": 0, "flaps": 0, "restarts": 0}
        self.replies = ReplyTracker(self.stats)
        self._beat = time.monotonic()  # the supervisor loop's heartbeat
        self._down_since: float | None = time.monotonic()

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
        self._spawn()

    def _spawn(self) -> None:
        self._beat = time.monotonic()
        self._thread = threading.Thread(target=self._supervise, name=f"mqtt-{self.terminal_id}", daemon=True)
        self._thread.start()

    def ensure_running(self) -> bool:
        """Restart the supervisor thread if it died (called from the frame loop); True if it was restarted."""
        if not self.cfg.enabled or self._stop.is_set() or self._thread is None or self._thread.is_alive():
            return False
        self.stats["restarts"] += 1
        log.error("mqtt link thread had died; restarted (restart %d)", self.stats["restarts"],
                  extra={"journal": {"RESULT": "link_restarted", "REASON": "MQTT_LINK"}})
        self._spawn()
        return True

    def state(self) -> dict[str, Any]:
        """The link's real state for STATUS=, health and diagnose: up, down, stalled, dead or disabled."""
        return link_state(self)

    def notify_result(self) -> None:
        """A result was stored in the outbox by someone else (the daemon's ledger path): send it soon."""
        self._dirty = True

    def stop(self, clean: bool = True, timeout: float | None = None) -> None:
        """Stop; clean: flush the outbox for up to stop_flush_s, publish ``stopped`` and disconnect (no will)."""
        self._clean_stop = clean
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self.cfg.stop_flush_s + self.cfg.connect_timeout_s + 5)
            self._thread = None

    def publish_result(self, record: dict[str, Any], answers: str | None = None) -> str:
        """Store the result durably in the outbox FIRST (OutboxFullError/StorageError if refused), then send it.

        ``answers``: the request id it answers; the ledger marks it answered in the same transaction.
        """
        payload = finalise_result(record, self.terminal_id)
        self.outbox.put(payload["result_id"], "result", stored_form(payload, self.security), answers=answers)
        self._dirty = True
        return str(payload["result_id"])

    def publish_event(self, event: dict[str, Any]) -> bool:
        """Send a guidance/progress event at QoS 0; dropped (False) while offline."""
        body = {"terminal_id": self.terminal_id, "ts": utc_iso(), **event}
        if self._publish(self.topics.event, body, qos=0) is None:
            self.stats["events_dropped"] += 1
            return False
        return True

    def publish_health(self, health: dict[str, Any] | None = None) -> bool:
        """Send a health message (given fields + outbox and link state); logs outbox alarms to the journal."""
        return self._publish(self.topics.health, health_body(self, health), qos=0, retain=True) is not None

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
        return {"state": state, "terminal_id": self.terminal_id, "version": self.version, "ts": utc_iso()}

    def _reply_fn(self, msg: mqtt.MQTTMessage) -> Callable[[dict[str, Any]], None]:
        topic_v5, correlation = response_topic(msg, only_under=self.topics.sub("reply/"))

        def reply(body: dict[str, Any]) -> None:
            topic = topic_v5 or self.topics.reply(body.get("request_id"))
            p = cf.reply_properties(correlation) if cf.is_v5(self.cfg) else None
            info = self._publish(topic, body, qos=1, props=p)
            if info is None:
                self.stats["replies_dropped"] += 1
                log.warning("reply to %s dropped: not connected; a retry with the same request id gets it",
                            body.get("request_id"))
            else:
                self.replies.sent(info.mid, str(body.get("request_id")))

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
        self._down_since = None
        self.stats["connects"] += 1
        log.info("connected to %s (session present: %s)", self.broker, bool(flags.session_present))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        self._connected.clear()
        self._mark_down()
        if not self._stop.is_set():
            log.warning("disconnected from %s: %s", self.broker, rc)

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        row = self._inflight.pop(mid, None)
        if row is None:
            self.replies.acked(mid)
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
        self.processor.handle(name, bytes(msg.payload), self._reply_fn(msg), retained=bool(msg.retain))

    # ------------------------------------------------------------------ supervisor
    def _mark_down(self) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
        self.replies.connection_lost()

    def _supervise(self) -> None:
        """The thread body: run the connection loop; whatever it raises, log, count, back off and go on."""
        while not self._stop.is_set():
            try:
                self._run()
                return
            except Exception as err:  # a bug must never silence reporting for good
                self.stats["restarts"] += 1
                self._drop(None)
                log.error("mqtt link failed (%s: %s); restarting it (restart %d)", type(err).__name__, err,
                          self.stats["restarts"], extra={"journal": {"RESULT": "link_restarted", "REASON": "MQTT_LINK"}})
                log.debug("link traceback", exc_info=True)
                self._stop.wait(min(self.cfg.backoff_max_s, 1.0))

    def _run(self) -> None:
        attempt, index = 0, 0
        while not self._stop.is_set():
            self._beat = time.monotonic()
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
                    log_flapping(self, url)
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
                self._beat = time.monotonic()
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
            if client is None:
                client, self._client = self._client, None
            self._client = None
        self._connected.clear()
        self._mark_down()
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
            self._beat = time.monotonic()
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
