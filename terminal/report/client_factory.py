"""Build one paho-mqtt client for one broker URL: protocol, credentials, TLS, last will, session."""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from terminal.report.settings import MqttConfig
from terminal.report.urls import BrokerUrl

log = logging.getLogger(__name__)


def is_v5(cfg: MqttConfig) -> bool:
    """True when the config asks for MQTT 5."""
    return cfg.protocol == "5"


def new_client(
    cfg: MqttConfig,
    url: BrokerUrl,
    client_id: str,
    *,
    will_topic: str,
    will_payload: dict[str, Any],
    password: str | None,
    tls: ssl.SSLContext | None,
) -> mqtt.Client:
    """A configured, not yet connected client (a fresh one per attempt: TLS can be set only once per client)."""
    if is_v5(cfg):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        # clean_session=False: the broker keeps our command subscription and queued commands while we are away.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=cfg.session_expiry_s == 0,
        )
    client.enable_logger(logging.getLogger("paho.mqtt.client"))
    if cfg.username is not None:
        client.username_pw_set(cfg.username, password)
    if url.tls:
        if tls is None:
            raise ValueError("TLS context missing for an mqtts:// URL")
        client.tls_set_context(tls)
    client.will_set(will_topic, json.dumps(will_payload, separators=(",", ":")), qos=1, retain=True)
    # Our own window (cfg.max_inflight) is the real limit; paho must never hold results back in its memory.
    client.max_inflight_messages_set(cfg.max_inflight + 20)
    client.max_queued_messages_set(0)
    client.connect_timeout = cfg.connect_timeout_s
    return client


def connect(client: mqtt.Client, cfg: MqttConfig, url: BrokerUrl) -> None:
    """Open the TCP/TLS connection and send CONNECT (CONNACK arrives through the loop)."""
    if is_v5(cfg):
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = cfg.session_expiry_s
        client.connect(url.host, url.port, cfg.keepalive_s, clean_start=cfg.session_expiry_s == 0, properties=props)
    else:
        client.connect(url.host, url.port, cfg.keepalive_s)


def reply_properties(correlation: bytes | None) -> Properties | None:
    """PUBLISH properties of a reply carrying the request's correlation data (MQTT 5)."""
    if correlation is None:
        return None
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = correlation
    return props


def json_properties(extra: dict[str, str] | None = None) -> Properties:
    """PUBLISH properties: content type JSON and optional user properties (MQTT 5)."""
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "application/json"
    if extra:
        props.UserProperty = list(extra.items())
    return props
