"""Fault test: >= 500 results while the broker restarts, the link is cut and the publisher is SIGKILLed.

The publisher is a separate process (tests/report/publisher_proc.py) with its own outbox, reaching the
broker through a TCP proxy the test controls. The central subscriber has a persistent session (what a
real central consumer must have) directly on the broker. Every result id that the publisher confirmed as
stored must arrive: zero lost; duplicates (at-least-once) are counted and reported.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from terminal.report.outbox import Outbox
from tests.report.helpers import Central
from tests.support.broker import TcpProxy

REPO = Path(__file__).resolve().parents[2]
N = 500


class Publisher:
    """The publishing subprocess and the ids it confirmed as stored."""

    def __init__(self, db: Path, url: str, tls_args: list[str], env: dict[str, str]) -> None:
        self.db, self.url, self.tls_args, self.env = db, url, tls_args, env
        self.confirmed: set[int] = set()
        self.done = threading.Event()
        self.proc: subprocess.Popen[str] | None = None
        self.kills = 0

    def start(self) -> None:
        nxt = max(self.confirmed, default=-1) + 1
        self.done.clear()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.report.publisher_proc",
                str(self.db),
                self.url,
                str(nxt),
                str(N),
                "0.02",
                *self.tls_args,
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("PUT "):
                self.confirmed.add(int(line.split()[1]))
            elif line.startswith("DONE"):
                self.done.set()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.mark.slow
@pytest.mark.broker
@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls-password-acl"])
def test_no_result_lost_under_broker_restarts_link_cuts_and_sigkill(
    mosquitto_factory: Any, tmp_path: Path, secure: bool
) -> None:
    rng = random.Random(7 if secure else 11)
    broker = mosquitto_factory(tls=True, users={"ft": "pw-ft"}) if secure else mosquitto_factory()
    proxy = TcpProxy(broker.port)
    scheme = "mqtts" if secure else "mqtt"
    env = {**os.environ, "TERMINAL_MQTT_PASSWORD": "pw-ft"}
    tls_args = [str(broker.ca_file), "ft"] if secure else []
    topic = f"terminal/{'ft' if secure else 'fp'}/result"
    central = Central(broker, topic, client_id="central-fault", persistent=True)
    pub = Publisher(tmp_path / "outbox.sqlite", f"{scheme}://{proxy.url}", tls_args, env)
    pub.start()
    faults = {"broker_restart": 0, "link_cut": 0, "sigkill": 0}
    # At least 3 of each fault, shuffled, then random ones while results are still being produced.
    plan = [k for k in faults for _ in range(3)]
    rng.shuffle(plan)
    t0 = time.monotonic()
    try:
        while (len(pub.confirmed) < N or plan) and time.monotonic() - t0 < 120:
            time.sleep(rng.uniform(0.2, 0.6))
            kind = plan.pop() if plan else rng.choice(list(faults))
            faults[kind] += 1
            if kind == "broker_restart":
                broker.restart(down_s=rng.uniform(0.2, 0.8))
            elif kind == "link_cut":
                proxy.cut()
                time.sleep(rng.uniform(0.2, 0.8))
                proxy.restore()
            else:
                pub.kill()
                pub.start()
            if len(pub.confirmed) >= N and not plan:
                break
        if pub.proc is None or pub.proc.poll() is not None:
            pub.start()  # make sure a publisher runs to drain the outbox
        assert pub.done.wait(90), f"publisher did not drain its outbox ({len(pub.confirmed)} confirmed)"
        want = {f"fault-{i:05d}" for i in pub.confirmed}
        end = time.monotonic() + 30
        while time.monotonic() < end:
            got = [json.loads(p)["result_id"] for p in (m.payload for m in list(central.messages))]
            if want <= set(got):
                break
            time.sleep(0.1)
    finally:
        pub.stop()
        proxy.close()
        central.close()
    arrived = set(got)
    lost = want - arrived
    figures = {
        "mode": "tls" if secure else "plain",
        "produced": len(want),
        "arrived_unique": len(arrived & want),
        "arrived_messages": len(got),
        "lost": len(lost),
        "duplicates": len(got) - len(arrived),
        "faults": faults,
        "seconds": round(time.monotonic() - t0, 1),
    }
    print("FAULT-TEST", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))
    assert len(want) >= N
    assert not lost, f"lost {len(lost)} results: {sorted(lost)[:10]}"
    assert arrived <= {f"fault-{i:05d}" for i in range(N)}  # nothing invented
    assert all(v >= 3 for v in faults.values())
    assert Outbox(tmp_path / "outbox.sqlite").count() == 0
