"""The MQTT link of one terminal: status/health/event/result topics, commands, outbox flushing, failover.

The public API lives here; one supervisor thread owns the connection, its reconnect loop, paho callbacks and
outbox flushing are in ``terminal.report.link_supervisor`` (the ``LinkSupervisor`` mixin).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from terminal import __version__
from terminal.report import client_factory as cf
from terminal.report.commands import CommandHandler, processor_for
from terminal.report.credentials import mqtt_password, tls_context
from terminal.report.link_state import health_body, link_state
from terminal.report.link_supervisor import HealthProvider, LinkSupervisor
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

__all__ = ["MqttLink"]


class MqttLink(LinkSupervisor):
    """Reports results (durably), health and events, and serves commands, over MQTT."""

    def __init__(
        self,
        cfg: MqttConfig,
        terminal_id: str,
        outbox: Outbox,
        *,
        version: str = __version__,
        client_id: str | None = None,
        template_validator: TemplateValidator | None = None,
        security: Security | None = None,
    ) -> None:
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
        self.stats = {
            "connects": 0,
            "connect_failures": 0,
            "published": 0,
            "acked": 0,
            "rejected": 0,
            "events_dropped": 0,
            "replies_dropped": 0,
            "replies_unacked": 0,
            "flaps": 0,
            "restarts": 0,
        }
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
        log.error(
            "mqtt link thread had died; restarted (restart %d)",
            self.stats["restarts"],
            extra={"journal": {"RESULT": "link_restarted", "REASON": "MQTT_LINK"}},
        )
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
            self._thread.join(
                timeout if timeout is not None else self.cfg.stop_flush_s + self.cfg.connect_timeout_s + 5
            )
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
    def _publish(
        self, topic: str, body: dict[str, Any], qos: int, retain: bool = False, props: Any = None
    ) -> mqtt.MQTTMessageInfo | None:
        with self._client_lock:
            client = self._client if self._connected.is_set() else None
        if client is None:
            return None
        if props is None and cf.is_v5(self.cfg):
            props = cf.json_properties()
        try:
            info = client.publish(
                topic, json.dumps(body, separators=(",", ":")), qos=qos, retain=retain, properties=props
            )
        except (ValueError, RuntimeError) as err:
            log.warning("publish to %s failed: %s", topic, err)
            return None
        return info if info.rc == mqtt.MQTT_ERR_SUCCESS else None

    def _reply_fn(self, msg: mqtt.MQTTMessage) -> Callable[[dict[str, Any]], None]:
        topic_v5, correlation = response_topic(msg, only_under=self.topics.sub("reply/"))

        def reply(body: dict[str, Any]) -> None:
            topic = topic_v5 or self.topics.reply(body.get("request_id"))
            p = cf.reply_properties(correlation) if cf.is_v5(self.cfg) else None
            info = self._publish(topic, body, qos=1, props=p)
            if info is None:
                self.stats["replies_dropped"] += 1
                log.warning(
                    "reply to %s dropped: not connected; a retry with the same request id gets it",
                    body.get("request_id"),
                )
            else:
                self.replies.sent(info.mid, str(body.get("request_id")))

        return reply

    # ------------------------------------------------------------------ command intake (supervisor thread)
    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        name = self.topics.command_name(msg.topic)
        self.processor.handle(name, bytes(msg.payload), self._reply_fn(msg), retained=bool(msg.retain))
