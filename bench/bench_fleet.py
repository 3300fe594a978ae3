"""Fleet simulation: >= 200 simulated terminals (full MqttLink + own SQLite outbox each) in one process.

Against one local mosquitto; a central consumer with a persistent QoS 1 session counts what the broker
delivered per terminal. Run: .venv/bin/python bench/bench_fleet.py [TERMINALS] [RESULTS_EACH]
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig
from tests.support.broker import Mosquitto


def main() -> None:
    """Connect the fleet, let every terminal publish, count deliveries; print table + JSON."""
    logging.basicConfig(level=logging.WARNING if "-v" in sys.argv else logging.ERROR)
    terminals = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    each = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    got: Counter[str] = Counter()
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        broker = Mosquitto(d / "broker")
        broker.start()
        central = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="central", protocol=mqtt.MQTTv5)
        ready = threading.Event()

        def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
            with lock:
                got[json.loads(msg.payload)["result_id"]] += 1

        central.on_connect = lambda c, *_: (c.subscribe("terminal/+/result", qos=1), ready.set())
        central.on_message = on_message
        central.connect("127.0.0.1", broker.port)
        central.loop_start()
        ready.wait(10)
        time.sleep(0.2)
        cfg = MqttConfig(brokers=[broker.url], health_interval_s=3600, backoff_min_s=0.2, backoff_max_s=2)
        t0 = time.perf_counter()
        # paho's loop uses select(), which only takes fds < 1024; 200 SQLite outboxes (3 fds each) would push
        # the sockets past it. Park low fds while the outboxes open, then free them for the sockets. (A real
        # terminal has one link and a handful of fds; this only concerns the one-process simulation.)
        parked = [os.open(os.devnull, os.O_RDONLY) for _ in range(4 * terminals)]
        links = [MqttLink(cfg, f"sim-{i:04d}", Outbox(d / f"o{i}.sqlite")) for i in range(terminals)]
        for fd in parked:
            os.close(fd)
        for link in links:
            link.start()
        while sum(link.connected for link in links) < terminals and time.perf_counter() - t0 < 120:
            time.sleep(0.05)
        t_conn = time.perf_counter() - t0
        connected = sum(link.connected for link in links)
        expected: set[str] = set()
        t1 = time.perf_counter()
        for k in range(each):  # round-robin: every terminal produces one result per round
            for link in links:
                expected.add(link.publish_result({"decision": "match", "score": 0.9, "round": k}))
        t_put = time.perf_counter() - t1
        while time.perf_counter() - t1 < 180:
            with lock:
                if expected <= set(got):
                    break
            time.sleep(0.05)
        t_deliver = time.perf_counter() - t1
        left = sum(link.outbox_depth for link in links)
        for link in links:
            link.stop(timeout=5)
        central.loop_stop()
        broker.stop()
    arrived = set(got) & expected
    res = {
        "terminals": terminals,
        "connected": connected,
        "results": len(expected),
        "arrived": len(arrived),
        "lost": len(expected - arrived),
        "duplicates": sum(got.values()) - len(got),
        "outbox_left": left,
        "connect_all_s": round(t_conn, 2),
        "put_s": round(t_put, 2),
        "deliver_all_s": round(t_deliver, 2),
        "delivered_per_s": round(len(arrived) / t_deliver, 1),
    }
    for k, v in res.items():
        print(f"{k:<18}{v:>12}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
