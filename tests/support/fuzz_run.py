"""The black-box fuzz run: thousands of hostile commands at ``terminal run`` while it serves, a full disk in the
middle, a diagnose flood among them; counts link deaths, missed watchdog pings and unanswered commands.

Every command carries its own MQTT 5 correlation data, so each reply is matched to its command. The state
directory is a small tmpfs (when this process may mount one) that is filled up and freed again mid-run.
bench/fuzz_commands.py records the figures; tests/daemon/test_faults.py runs a small one.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.report.fuzz_corpus import corpus
from tests.support.broker import Mosquitto
from tests.support.terminal_harness import Central, DaemonProc, Notify, daemon_config


def mount_tmpfs(path: Path, size_mb: int) -> bool:
    """A tmpfs at ``path`` (root only); False when mounting is not allowed here."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(path)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def fill(path: Path) -> Path:
    """Fill the file system of ``path`` until ENOSPC; the filler file."""
    filler = path / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb") as fh:
        block = b"\0" * (1 << 16)
        while True:
            fh.write(block)
            fh.flush()
    return filler


class FuzzRun:
    """One run; ``run(n)`` returns the figures."""

    def __init__(
        self,
        tmp: Path,
        clip: Path,
        reference: dict[str, Any],
        *,
        seed: int,
        window: int = 10,
        watchdog_s: float = 2.0,
        tid: str = "kc-fuzz",
        log: Any = print,
    ) -> None:
        self.tmp, self.clip, self.reference, self.seed = tmp, clip, reference, seed
        self.window, self.watchdog_s, self.tid, self.log = window, watchdog_s, tid, log
        self.kinds: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.unanswered: list[tuple[int, str, str]] = []

    def _send_all(self, central: Central, cases: list[tuple[str, bytes, str]], first: int) -> None:
        pending: list[tuple[int, str, str, str]] = []
        for j, (name, raw, kind) in enumerate(cases):
            self.kinds[kind] += 1
            central.send(name, raw, wait=None)
            pending.append((first + j, f"c{central.seq}", name, kind))
            while len(pending) >= self.window:
                self._collect(central, pending.pop(0))
        for p in pending:
            self._collect(central, p)

    def _collect(self, central: Central, item: tuple[int, str, str, str]) -> None:
        i, key, name, kind = item
        reply = central.wait_reply(key, 30.0)
        if reply is None:
            self.unanswered.append((i, name, kind))
            return
        self.codes["OK" if reply.get("ok") else reply["error"]["code"]] += 1

    def run(self, n: int) -> dict[str, Any]:
        """``n`` corpus commands (a full disk during the middle tenth); the figures."""
        broker = Mosquitto(self.tmp / "broker")
        broker.start()
        state = self.tmp / "state"
        tmpfs = mount_tmpfs(state, 24)
        notify = Notify()
        cfg = daemon_config(self.tmp, broker.url, self.clip, self.tid, extra="diagnose_min_interval_s = 5.0")
        cfg.write_text(cfg.read_text().replace("diagnose_min_interval_s = 2.0\n", ""))
        daemon = DaemonProc(cfg, notify, watchdog_s=self.watchdog_s)
        central: Central | None = None
        disk: dict[str, Any] = {"tmpfs": tmpfs}
        try:
            daemon.start()
            daemon.wait_ready()
            t_ready = time.monotonic()
            central = Central(broker.port, self.tid)
            cases = list(corpus(n, self.seed, self.reference))
            a, b = int(n * 0.45), int(n * 0.55)
            self._send_all(central, cases[:a], 0)
            if tmpfs:
                filler = fill(state)
                disk["verify_while_full"] = central.send(
                    "verify",
                    {
                        "request_id": f"full-{self.seed}",
                        "deadline": time.time() + 600,
                        "template": self.reference,
                        "timeout_s": 1.0,
                    },
                    wait=30,
                )
                self._send_all(central, cases[a:b], a)
                end = time.monotonic() + 8  # the health message (every 2 s) carries the alarm
                while time.monotonic() < end and not disk.get("alarm_seen"):
                    disk["alarm_seen"] = any("storage_full" in h.get("alarms", []) for h in list(central.health))
                    time.sleep(0.1)
                filler.unlink()
                time.sleep(2.5)  # the frame loop's probe clears the alarm once a write succeeds
                disk["verify_after_freeing"] = central.send(
                    "verify",
                    {
                        "request_id": f"freed-{self.seed}",
                        "deadline": time.time() + 600,
                        "template": self.reference,
                        "timeout_s": 1.0,
                    },
                    wait=30,
                )
            else:
                self._send_all(central, cases[a:b], a)
            self._send_all(central, cases[b:], b)
            final = central.send("ping", {"request_id": f"final-{self.seed}"}, wait=30)
            pings = notify.pings(t_ready)
            gaps = [y - x for x, y in itertools.pairwise(pings)]
            log = daemon.log.read_text(errors="replace")
            health = central.health[-1] if central.health else {}
            return {
                "seed": self.seed,
                "commands": n,
                "answered": n - len(self.unanswered),
                "unanswered": len(self.unanswered),
                "unanswered_cases": self.unanswered[:10],
                "link_deaths": log.count("mqtt link failed") + log.count("link thread had died"),
                "link_connects": health.get("link", {}).get("connects"),
                "daemon_alive": daemon.alive,
                "final_ping_ok": bool(final and final.get("ok")),
                "watchdog_pings": len(pings),
                "max_ping_gap_s": round(max(gaps), 3) if gaps else None,
                "missed_watchdog": sum(g > self.watchdog_s for g in gaps),
                "seconds": round(time.monotonic() - t_ready, 1),
                "kinds": dict(self.kinds),
                "codes": dict(self.codes),
                "disk": {
                    k: (v.get("error", {}).get("code") or ("accepted" if v.get("accepted") else v))
                    if isinstance(v, dict)
                    else v
                    for k, v in disk.items()
                },
            }
        finally:
            daemon.stop()
            if central is not None:
                central.close()
            broker.stop()
            notify.close()
            if tmpfs:
                subprocess.run(["umount", "-l", str(state)], capture_output=True, timeout=10)
                with contextlib.suppress(OSError):
                    os.rmdir(state)
