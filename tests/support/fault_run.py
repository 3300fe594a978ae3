"""The black-box fault run: verify commands under broker restarts, SIGKILLs and link faults; count results.

``fault_run`` drives ``terminal run`` (replay camera, mock GPIO) through a TCP proxy to a real mosquitto, as
a central system would: one verify at a time with a request id, deadline, member_ref and timeout_s, retried
with the *same* id when no reply comes or the refusal is temporary. Faults are drawn from a seeded generator:
SIGKILL mid-session, SIGKILL right after the ``result`` event, broker restart, link cut (reset), link stall.
After a kill the daemon is started again at once (systemd's Restart=). At the end every accepted request
must have exactly one distinct result at the persistent subscriber. bench/fault_run.py records the figures;
tests/daemon/test_faults.py runs a small one.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from terminal.report.codes import is_temporary
from tests.support.broker import Mosquitto, TcpProxy
from tests.support.terminal_harness import Central, DaemonProc, Notify, daemon_config

FAULTS = ("kill_mid_session", "kill_after_result", "broker_restart", "link_cut", "link_stall")


class FaultRun:
    """One run; ``figures()`` after ``run()``."""

    def __init__(
        self,
        tmp: Path,
        clip: Path,
        reference: dict[str, Any],
        *,
        seed: int,
        fault_every: int = 3,
        timeout_s: float = 1.5,
        tid: str = "kc-fault",
        log: Any = print,
        plan: list[str] | None = None,
    ) -> None:
        self.tmp, self.clip, self.reference, self.seed = tmp, clip, reference, seed
        self.rng = random.Random(seed)
        self.fault_every, self.timeout_s, self.tid, self.log = fault_every, timeout_s, tid, log
        self.accepted: dict[str, str | None] = {}
        self.refused: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.sends = 0
        self.plan = list(plan) if plan is not None else None  # faults in this order instead of drawn at random

    def _verify(self, central: Central, daemon: DaemonProc, rid: str) -> None:
        body = {
            "request_id": rid,
            "deadline": time.time() + 3600,
            "template": self.reference,
            "member_ref": f"m-{rid}",
            "timeout_s": self.timeout_s,
        }
        keys: list[str] = []
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if not daemon.alive:
                daemon.start()  # systemd's Restart=on-failure
            self.sends += 1
            central.send("verify", body, wait=None)
            keys.append(f"c{central.seq}")
            wait_end = time.monotonic() + 8
            while time.monotonic() < wait_end:
                replies = [r for k in keys for r in central.replies.get(k, [])]
                ok = [r for r in replies if r.get("ok") and r.get("accepted")]
                if ok:
                    self.accepted[rid] = ok[0].get("result_id")
                    return
                codes = [r["error"]["code"] for r in replies if not r.get("ok")]
                final = [c for c in codes if not is_temporary(c) and c != "DUPLICATE"]
                if final:
                    self.refused[final[0]] += 1
                    return
                if codes and codes[-1] != "DUPLICATE" and len(codes) >= len(keys):
                    break  # temporary refusal: retry with the same id
                time.sleep(0.05)
            time.sleep(0.3)
        self.refused["NO_ANSWER"] += 1

    def _wait_result(self, central: Central, rid: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if central.results_for(rid):
                return True
            time.sleep(0.05)
        return False

    def _fault(
        self, kind: str, central: Central, daemon: DaemonProc, broker: Mosquitto, proxy: TcpProxy, rid: str
    ) -> None:
        self.faults[kind] += 1
        if kind == "kill_mid_session":
            time.sleep(self.rng.uniform(0.0, 0.5))
            daemon.kill()
            daemon.start()
        elif kind == "kill_after_result":
            end = time.monotonic() + 20
            while time.monotonic() < end:
                with central.lock:
                    if any(e.get("type") == "result" and e.get("request_id") == rid for e in central.events):
                        break
                time.sleep(0.002)
            daemon.kill()
            daemon.start()
        elif kind == "broker_restart":
            broker.restart(down_s=self.rng.uniform(0.2, 1.5))
        elif kind == "link_cut":
            proxy.cut()
            time.sleep(self.rng.uniform(0.3, 2.0))
            proxy.restore()
        else:
            proxy.stall()
            time.sleep(self.rng.uniform(0.5, 3.0))
            proxy.resume()

    def run(self, n_accepted: int) -> dict[str, Any]:
        """Until ``n_accepted`` verifies were accepted; then wait for every result; the figures."""
        broker = Mosquitto(self.tmp / "broker")
        broker.start()
        proxy = TcpProxy(broker.port)
        notify = Notify()
        daemon = DaemonProc(daemon_config(self.tmp, f"mqtt://{proxy.url}", self.clip, self.tid), notify)
        central: Central | None = None
        t0 = time.monotonic()
        try:
            daemon.start()
            daemon.wait_ready()
            central = Central(broker.port, self.tid)
            i = 0
            while len(self.accepted) < n_accepted:
                i += 1
                rid = f"s{self.seed}-{i:04d}"
                self._verify(central, daemon, rid)
                if rid in self.accepted and i % self.fault_every == 0 and self.plan != []:
                    kind = self.plan.pop(0) if self.plan else FAULTS[self.rng.randrange(len(FAULTS))]
                    self._fault(kind, central, daemon, broker, proxy, rid)
                if rid in self.accepted:
                    self._wait_result(central, rid, 30)
            if not daemon.alive:
                daemon.start()
            end = time.monotonic() + 120
            while time.monotonic() < end and not all(central.results_for(r) for r in self.accepted):
                time.sleep(0.2)
            return self.figures(central, daemon, time.monotonic() - t0)
        finally:
            daemon.stop()
            if central is not None:
                central.close()
            proxy.close()
            broker.stop()
            notify.close()

    def figures(self, central: Central, daemon: DaemonProc, seconds: float) -> dict[str, Any]:
        """Accepted, lost, extra, duplicates on the wire, decisions, faults."""
        lost, extra, dup, wrong_id = [], [], 0, 0
        decisions: Counter[str] = Counter()
        for rid, result_id in self.accepted.items():
            got = central.results_for(rid)
            ids = {r["result_id"] for r in got}
            dup += len(got) - len(ids)
            if not got:
                lost.append(rid)
            elif len(ids) > 1:
                extra.append(rid)
            else:
                r = got[0]
                decisions[
                    f"{r['decision']}/{r.get('reason_code')}" if r["decision"] == "failed" else r["decision"]
                ] += 1
                wrong_id += (result_id is not None and r["result_id"] != result_id) or r.get("member_ref") != f"m-{rid}"
        return {
            "seed": self.seed,
            "accepted": len(self.accepted),
            "lost": len(lost),
            "lost_ids": lost[:10],
            "more_than_one": len(extra),
            "wire_duplicates": dup,
            "wrong_result_or_member_ref": wrong_id,
            "decisions": dict(decisions),
            "faults": dict(self.faults),
            "refused": dict(self.refused),
            "commands_sent": self.sends,
            "daemon_starts": daemon.starts,
            "seconds": round(seconds, 1),
        }
