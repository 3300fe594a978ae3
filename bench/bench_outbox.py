"""Outbox benchmark: fsynced puts/s, and results/s from outbox to broker acknowledgement (real mosquitto).

Run: .venv/bin/python bench/bench_outbox.py [N]   (prints a table and a JSON line)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig
from tests.support.broker import Mosquitto

RECORD = {
    "decision": "match",
    "score": 0.9123,
    "reason": "OK",
    "quality": {"sharpness": 0.8, "brightness": 0.55},
    "member_ref": "m-000123",
    "session_ms": 4210,
}


def put_rate(d: Path, n: int) -> float:
    """Durable puts per second (one fsynced transaction each)."""
    ob = Outbox(d / "put.sqlite", max_rows=n + 10)
    t = time.perf_counter()
    for i in range(n):
        ob.put(f"p{i}", "result", RECORD)
    dt = time.perf_counter() - t
    ob.close()
    return n / dt


def drain_rate(d: Path, broker: Mosquitto, n: int, window: int, protocol: str = "5") -> tuple[float, float]:
    """Results/s from a pre-filled outbox to PUBACK-and-delete, and the ms for the whole drain."""
    ob = Outbox(d / f"drain{window}{protocol}.sqlite", max_rows=n + 10)
    for i in range(n):
        ob.put(f"d{window}-{i}", "result", RECORD)
    link = MqttLink(
        MqttConfig(brokers=[broker.url], max_inflight=window, health_interval_s=3600, protocol=protocol),
        f"bench{window}",
        ob,
    )
    link.start()
    while not link.connected:
        time.sleep(0.005)
    t = time.perf_counter()
    while ob.count():
        time.sleep(0.002)
    dt = time.perf_counter() - t
    link.stop()
    ob.close()
    return n / dt, dt * 1000


def main() -> None:
    """Run every measurement in one process and print the table + JSON."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        broker = Mosquitto(d / "broker")
        broker.start()
        try:
            res: dict[str, float] = {"n": n, "put_per_s": put_rate(d, n)}
            for window in (1, 20, 100):
                res[f"drain_w{window}_per_s"], res[f"drain_w{window}_ms"] = drain_rate(d, broker, n, window)
            res["drain_w20_mqtt311_per_s"], res["drain_w20_mqtt311_ms"] = drain_rate(d, broker, n, 20, "3.1.1")
        finally:
            broker.stop()
    res["ratio_w20_over_w1"] = res["drain_w20_per_s"] / res["drain_w1_per_s"]
    res["ratio_w100_over_w20"] = res["drain_w100_per_s"] / res["drain_w20_per_s"]
    print(f"{'measure':<28}{'value':>12}")
    for k, v in res.items():
        print(f"{k:<28}{v:>12.1f}")
    print(json.dumps({k: round(v, 2) for k, v in res.items()}))


if __name__ == "__main__":
    main()
