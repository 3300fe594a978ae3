"""The MQTT link's connection supervisor: the reconnect loop, paho callbacks, outbox flushing and clean stop.

One supervisor thread owns the connection: it connects to the broker URLs in turn (exponential backoff with
jitter), drives paho's network loop, publishes the outbox head at QoS 1 within a bounded window and deletes
a row only when its PUBACK carries a success reason code. A fresh paho client per attempt because each URL
may need different TLS settings, and because results must be re-sent from the outbox, never from paho's memory.

``LinkSupervisor`` is a mixin of ``terminal.report.link.MqttLink``, which owns the state declared below.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from terminal.report import client_factory as cf
from terminal.report.link_state import log_flapping
from terminal.report.outbox import Outbox
from terminal.report.reply_tracking import ReplyTracker
from terminal.report.settings import MqttConfig
from terminal.report.topics import Topics
from terminal.report.urls import BrokerUrl
from terminal.stamps import utc_iso

# The link's logger name, as before the split (journal filters and log configs name it).
log = logging.getLogger("terminal.report.link")

HealthProvider = Callable[[], dict[str, Any]]
__all__ = ["HealthProvider", "LinkSupervisor"]


class LinkSupervisor:
    """The supervisor thread's half of ``MqttLink``: connect, fail over, serve, flush, stop."""

    # Set by MqttLink.__init__.
    cfg: MqttConfig
    terminal_id: str
    version: str
    client_id: str
    outbox: Outbox
    topics: Topics
    urls: list[BrokerUrl]
    replies: ReplyTracker
    stats: dict[str, int]
    broker: BrokerUrl | None
    _password: str | None
    _tls: ssl.SSLContext | None
    _client: mqtt.Client | None
    _client_lock: threading.Lock
    _connected: threading.Event
    _stop: threading.Event
    _clean_stop: bool
    _inflight: dict[int, int]
    _acked: list[int]
    _dirty: bool
    _health_provider: HealthProvider | None
    _beat: float
    _down_since: float | None

    # Provided by MqttLink (command intake and health publishing).
    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        raise NotImplementedError

    def publish_health(self, health: dict[str, Any] | None = None) -> bool:
        raise NotImplementedError

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

    def _status(self, state: str) -> dict[str, Any]:
        return {"state": state, "terminal_id": self.terminal_id, "version": self.version, "ts": utc_iso()}

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
                log.error(
                    "mqtt link failed (%s: %s); restarting it (restart %d)",
                    type(err).__name__,
                    err,
                    self.stats["restarts"],
                    extra={"journal": {"RESULT": "link_restarted", "REASON": "MQTT_LINK"}},
                )
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
            client = cf.new_client(
                self.cfg,
                url,
                self.client_id,
                will_topic=self.topics.status,
                will_payload=self._status("offline"),
                password=self._password,
                tls=self._tls,
            )
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
            log.warning(
                "no session with %s (%s)", url, "timeout" if rc == mqtt.MQTT_ERR_SUCCESS else mqtt.error_string(rc)
            )
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
