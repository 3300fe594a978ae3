"""The documented broker (TLS, passwords, ACL, client id = user name) and the signed link against it."""

from __future__ import annotations

import contextlib
import json
import ssl
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig
from terminal.security import keys
from terminal.security.envelope import sign_command, verify_payload
from terminal.security.runtime import Security
from tests.report.helpers import Central
from tests.support.broker import CENTRAL_PASSWORD
from tests.support.waiting import wait

pytestmark = pytest.mark.broker


@pytest.fixture
def secure(mosquitto_factory: Any) -> Any:
    return mosquitto_factory(tls=True, users={"s1": "pw-s1", "s2": "pw-s2"})


def client(broker: Any, user: str, password: str, client_id: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.tls_set_context(ssl.create_default_context(cafile=str(broker.ca_file)))
    c.connect("127.0.0.1", broker.port, 30)
    c.loop_start()
    assert wait(c.is_connected), f"{user} did not connect"
    return c


def link_for(broker: Any, tid: str, tmp: Path, security: Security | None) -> MqttLink:
    cfg = MqttConfig(
        brokers=[broker.url],
        username=tid,
        ca_file=broker.ca_file,
        backoff_min_s=0.1,
        backoff_max_s=0.5,
        connect_timeout_s=3,
        stop_flush_s=3,
    )
    return MqttLink(cfg, tid, Outbox(tmp / f"{tid}.sqlite"), security=security)


def test_signed_link_on_the_documented_broker(secure: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "pw-s1")
    central_key, terminal_key = keys.generate(), keys.generate()
    sec = Security("s1", terminal_key, [central_key.public_key()])
    central = Central(secure, "terminal/#")
    link = link_for(secure, "s1", tmp_path, sec)
    ran: list[str] = []
    link.set_command_handler(lambda n, p, reply: (ran.append(p["request_id"]), reply({"accepted": True})))
    link.start()
    try:
        central.wait_for("s1/status", lambda p: p["state"] == "online")

        def send(name: str, body: Any, retain: bool = False, response_topic: str | None = None) -> None:
            props = Properties(PacketTypes.PUBLISH)
            if response_topic:
                props.ResponseTopic = response_topic
            central.client.publish(
                f"terminal/s1/cmd/{name}", json.dumps(body), qos=1, retain=retain, properties=props
            ).wait_for_publish(5)

        send("ping", sign_command({"request_id": "ok-1"}, central_key, terminal_id="s1", name="ping"))
        central.wait_for("s1/reply/ok-1", lambda p: p.get("pong") is True)
        send("ping", {"request_id": "uns-1"})
        send("ping", sign_command({"request_id": "wk-1"}, keys.generate(), terminal_id="s1", name="ping"))
        send("verify", sign_command({"request_id": "rp-1"}, central_key, terminal_id="s1", name="ping"))
        send("ping", sign_command({"request_id": "ot-1"}, central_key, terminal_id="s2", name="ping"))
        send(
            "ping",
            sign_command({"request_id": "ex-1"}, central_key, terminal_id="s1", name="ping", now=time.time() - 3600),
        )
        for rid in ("uns-1", "wk-1", "rp-1", "ot-1", "ex-1"):
            got = central.wait_for(f"s1/reply/{rid}", lambda p: p.get("ok") is False)[0]
            assert got["error"]["code"] == "BAD_SIGNATURE", got
        # a reply is never steered outside <prefix>/reply/ (here: onto another terminal's result topic)
        send(
            "ping",
            sign_command({"request_id": "rt-1"}, central_key, terminal_id="s1", name="ping"),
            response_topic="terminal/s2/result",
        )
        central.wait_for("s1/reply/rt-1", lambda p: p.get("pong") is True)
        assert not central.on("s2/result")
        # a retained command is refused (it would run again at every reconnect); s2 never had a session, so
        # the retained copy is the only one it gets
        monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "pw-s2")
        send2 = sign_command({"request_id": "ret-1"}, central_key, terminal_id="s2", name="diagnose")
        central.client.publish("terminal/s2/cmd/diagnose", json.dumps(send2), qos=1, retain=True).wait_for_publish(5)
        link2 = link_for(secure, "s2", tmp_path, Security("s2", keys.generate(), [central_key.public_key()]))
        link2.set_command_handler(lambda n, p, reply: (ran.append(p["request_id"]), reply({"accepted": True})))
        link2.start()
        try:
            got = central.wait_for("s2/reply/ret-1", lambda p: p.get("ok") is False)[0]
            assert got["error"]["code"] == "RETAINED"
        finally:
            central.client.publish("terminal/s2/cmd/diagnose", b"", qos=1, retain=True).wait_for_publish(5)
            link2.stop()
        assert ran == []
        # results are signed; the central side verifies them exactly as received
        rid = link.publish_result({"request_id": "ok-1", "decision": "match", "score": 0.9, "threshold": 0.55})
        msg = None
        assert wait(lambda: any(m.topic == "terminal/s1/result" for m in central.messages))
        msg = next(m for m in central.messages if m.topic == "terminal/s1/result")
        body = verify_payload(bytes(msg.payload), [terminal_key.public_key()])
        assert body["result_id"] == rid and body["decision"] == "match"
    finally:
        link.stop()
        central.close()


@pytest.mark.slow
def test_acl_stops_forged_results_and_client_id_takeover(
    secure: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "pw-s1")
    central = Central(secure, "terminal/#")
    link = link_for(secure, "s1", tmp_path, None)
    link.start()
    try:
        central.wait_for("s1/status", lambda p: p["state"] == "online")
        connects = link.stats["connects"]
        # mosquitto drops a client whose publish the ACL refuses: one fresh client per forged message
        forged = [
            ("s2", "pw-s2", "s1", "terminal/s1/result", {"decision": "match"}),  # s2 posing as s1
            ("s2", "pw-s2", "s1", "terminal/s1/cmd/ping", {"request_id": "x"}),  # s2 commanding s1
            ("central", CENTRAL_PASSWORD, "c-1", "terminal/s1/result", {"decision": "match"}),
            ("central", CENTRAL_PASSWORD, "c-2", "terminal/s1/status", {"state": "online"}),
        ]
        for user, password, cid, topic, body in forged:
            c = client(secure, user, password, client_id=cid)
            with contextlib.suppress(RuntimeError, ValueError):  # refused: the broker may close the connection
                c.publish(topic, json.dumps(body), qos=1).wait_for_publish(2)
            c.loop_stop()
            c.disconnect()
        time.sleep(1.0)
        assert not central.on("s1/result")
        assert all(p.get("terminal_id") == "s1" for p in central.on("s1/status"))  # only the terminal's own
        assert not central.on("s1/reply/x")  # s2 may not command s1
        # s2 logging in with client id "s1" did not take over s1's session: the broker used "s2" as client id
        assert link.connected and link.stats["connects"] == connects
    finally:
        link.stop()
        central.close()


def test_docs_show_the_broker_files_as_shipped() -> None:
    from tests.support.broker import DOC_ACL, DOC_CONF, REPO

    doc = (REPO / "docs" / "mqtt.md").read_text()
    for f in (DOC_CONF, DOC_ACL):
        assert f"`examples/mosquitto/{f.name}`:\n```\n{f.read_text()}```" in doc, f"docs/mqtt.md shows a stale {f.name}"
