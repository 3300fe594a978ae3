"""Command replies: where each goes (MQTT 5 response topic or ``<prefix>/reply/<id>``) and whether it arrived.

A reply is published at QoS 1 on the live connection. One that the connection drops before its PUBACK is
counted and logged (never silently): the central system gets it again by re-sending the command with the
same request id, because the request-id store keeps every final reply and answers a retry with it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any], Any], "mqtt.MQTTMessageInfo | None"]


class ReplyTracker:
    """Replies published and not yet acknowledged by the broker (paho mid -> request id)."""

    def __init__(self, stats: dict[str, int]) -> None:
        self.stats = stats
        self._open: dict[int, str] = {}
        self._lock = threading.Lock()

    def sent(self, mid: int, request_id: str) -> None:
        """A reply went out with packet id ``mid``."""
        with self._lock:
            self._open[mid] = request_id

    def acked(self, mid: int) -> bool:
        """PUBACK for ``mid``; True if it was a reply."""
        with self._lock:
            return self._open.pop(mid, None) is not None

    def connection_lost(self) -> None:
        """The connection dropped: replies without PUBACK may be lost; say so (the central re-sends the id)."""
        with self._lock:
            lost, self._open = list(self._open.values()), {}
        if lost:
            self.stats["replies_unacked"] = self.stats.get("replies_unacked", 0) + len(lost)
            log.warning(
                "connection lost before the broker acknowledged the reply to %s; a retry with the same "
                "request id gets it again",
                ", ".join(sorted(set(lost))[:10]),
            )


def response_topic(msg: mqtt.MQTTMessage, only_under: str | None = None) -> tuple[str | None, bytes | None]:
    """The MQTT 5 response topic (None if absent, a wildcard or not under ``only_under``) and correlation data."""
    props = getattr(msg, "properties", None)
    topic = getattr(props, "ResponseTopic", None) if props is not None else None
    correlation = getattr(props, "CorrelationData", None) if props is not None else None
    if topic and any(c in topic for c in "+#"):
        topic = None  # a wildcard is not a topic name; fall back to our reply topic
    if topic and only_under is not None and not topic.startswith(only_under):
        # Replies go only under <prefix>/reply/: a command must not steer our publishes onto another
        # terminal's result topic (or anywhere else the ACL happens to allow).
        log.warning("command response topic %r ignored: not under %s", topic[:80], only_under)
        topic = None
    return topic, correlation
