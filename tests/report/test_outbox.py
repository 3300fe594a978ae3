"""The durable outbox: order, idempotence, bounds and policies, purge/retry, survival of SIGKILL."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from terminal.report.errors import OutboxError, OutboxFullError
from terminal.report.outbox import Outbox

REPO = Path(__file__).resolve().parents[2]


def test_put_pending_ack_in_order(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", max_rows=100, max_bytes=1 << 20)
    ids = [ob.put(f"r{i}", "result", {"i": i}) for i in range(10)]
    assert ids == sorted(ids)
    assert [it.result_id for it in ob.pending(5)] == [f"r{i}" for i in range(5)]
    assert ob.ack(ids[0]) and not ob.ack(ids[0])
    assert ob.ack_many(ids[1:3]) == 2
    assert [it.payload_dict()["i"] for it in ob.pending(100)] == list(range(3, 10))
    assert ob.count() == 7 and ob.counter("acked_total") == 3 and ob.counter("put_total") == 10
    assert ob.bytes() == sum(len(it.payload) for it in ob.list())


def test_put_is_idempotent_per_result_id(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite")
    a = ob.put("same", "result", {"x": 1})
    b = ob.put("same", "result", {"x": 2})
    assert a == b and ob.count() == 1 and ob.list()[0].payload_dict() == {"x": 1}


def test_wal_and_full_sync_are_set(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite")
    assert ob._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ob._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_refuse_new_policy_keeps_everything_and_uses_reserve(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ob = Outbox(tmp_path / "o.sqlite", max_rows=10, max_bytes=1 << 20, policy="refuse_new", reserve_rows=3)
    for i in range(10):
        ob.put(f"r{i}", "result", {"i": i})
    assert not ob.accepting() and ob.alarm() == "outbox_full"
    with caplog.at_level(logging.ERROR):
        for i in range(10, 13):  # sessions that were already running still get their result stored
            ob.put(f"r{i}", "result", {"i": i})
    with pytest.raises(OutboxFullError):
        ob.put("r13", "result", {"i": 13})
    assert ob.count() == 13 and ob.counter("dropped_total") == 0
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


def test_drop_oldest_policy_logs_every_dropped_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ob = Outbox(tmp_path / "o.sqlite", max_rows=10, max_bytes=1 << 20, policy="drop_oldest")
    with caplog.at_level(logging.ERROR):
        for i in range(14):
            ob.put(f"r{i}", "result", {"i": i})
    assert [it.result_id for it in ob.list()] == [f"r{i}" for i in range(4, 14)]
    assert ob.counter("dropped_total") == 4 and ob.alarm() == "outbox_full" and ob.accepting()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(f"r{i}" in logged for i in range(4))


def test_byte_bound(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", max_rows=1000, max_bytes=64 * 1024, policy="drop_oldest")
    for i in range(30):
        ob.put(f"r{i}", "result", {"pad": "x" * 4000})
    assert ob.bytes() <= 64 * 1024 and ob.count() < 30


def test_warn_level_alarm(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", max_rows=10, warn_fraction=0.5)
    for i in range(5):
        ob.put(f"r{i}", "result", {})
    assert ob.alarm() == "outbox_high" and ob.accepting()


def test_mark_failed_holds_then_retry_releases(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite")
    a = ob.put("a", "result", {})
    ob.put("b", "result", {})
    ob.mark_failed(a, "PUBACK 135 Not authorized", hold_s=3600)
    assert [it.result_id for it in ob.pending(10)] == ["b"]
    assert ob.alarm() == "outbox_rejected" and ob.list()[0].attempts == 1
    assert ob.retry() == 1
    assert [it.result_id for it in ob.pending(10)] == ["a", "b"]


def test_purge_requires_a_selector_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ob = Outbox(tmp_path / "o.sqlite")
    ids = [ob.put(f"r{i}", "result", {}) for i in range(4)]
    with pytest.raises(OutboxError):
        ob.purge()
    with caplog.at_level(logging.WARNING):
        assert ob.purge([ids[1]]) == ["r1"]
    assert "r1" in caplog.text
    assert ob.purge(older_than_s=3600) == []
    assert sorted(ob.purge(all_rows=True)) == ["r0", "r2", "r3"] and ob.count() == 0


def test_second_connection_sees_rows(tmp_path: Path) -> None:
    a = Outbox(tmp_path / "o.sqlite")
    a.put("x", "result", {})
    b = Outbox(tmp_path / "o.sqlite")
    assert b.count() == 1
    b.ack(b.list()[0].row_id)
    assert a.count() == 0


def test_unwritable_location_is_an_outbox_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutboxError):
        Outbox(blocker / "sub" / "o.sqlite")


WRITER = """
import sys
from pathlib import Path
from terminal.report.outbox import Outbox
ob = Outbox(Path(sys.argv[1]))
i = 0
while True:
    ob.put(f"r{i:06d}", "result", {"i": i})
    print(i, flush=True)
    i += 1
"""


KILL_AFTER = 200  # confirmed (fsynced) writes before the SIGKILL; how fast they come is bench/'s business
HANG_GUARD_S = 300  # only against a writer that hangs; not a speed requirement


def test_every_returned_put_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, cwd=REPO, text=True)
    assert proc.stdout is not None
    hung = threading.Event()

    def guard() -> None:
        hung.set()
        os.kill(proc.pid, signal.SIGKILL)  # unblocks readline below: EOF

    timer = threading.Timer(HANG_GUARD_S, guard)
    timer.start()
    confirmed = -1
    try:
        while confirmed < KILL_AFTER and (line := proc.stdout.readline()):
            confirmed = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        timer.cancel()
    proc.wait()
    # lines printed before the kill but not read yet are confirmed writes too
    confirmed = max([confirmed, *(int(ln) for ln in proc.stdout.read().splitlines(keepends=True) if ln.endswith("\n"))])
    assert not hung.is_set(), f"writer hung: {confirmed + 1} writes in {HANG_GUARD_S} s"
    assert confirmed >= KILL_AFTER, f"writer died after {confirmed + 1} writes (exit {proc.returncode})"
    ob = Outbox(db)
    stored = [it.payload_dict()["i"] for it in ob.list()]
    assert stored[: confirmed + 1] == list(range(confirmed + 1))  # nothing confirmed is missing, order kept
    assert len(stored) <= confirmed + 2  # at most the one put in progress beyond the last print
