"""A terminal-like process for the fault test: puts results through MqttLink from its own outbox.

Prints ``PUT <i>`` after each put returned (the result is durable from then on) and ``DONE`` when its
outbox is empty. Run: python -m tests.report.publisher_proc DB URL START END INTERVAL [CA_FILE USER]
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig


def main(argv: list[str]) -> int:
    """Publish results START..END-1, then wait for the outbox to drain."""
    db, url, start, end, interval = Path(argv[0]), argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    extra = {"ca_file": argv[5], "username": argv[6]} if len(argv) > 6 else {}
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    cfg = MqttConfig(
        brokers=[url],
        backoff_min_s=0.05,
        backoff_max_s=0.5,
        connect_timeout_s=2,
        keepalive_s=5,
        max_inflight=10,
        **extra,
    )
    outbox = Outbox(db)
    link = MqttLink(cfg, "ft" if extra else "fp", outbox)
    link.start()
    for i in range(start, end):
        link.publish_result({"result_id": f"fault-{i:05d}", "seq": i, "decision": "match", "score": 0.93})
        print(f"PUT {i}", flush=True)
        time.sleep(interval)
    while outbox.count():
        time.sleep(0.05)
    print("DONE", flush=True)
    link.stop(clean=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
