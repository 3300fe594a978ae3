"""Served request ids survive a restart: a command re-delivered by the broker afterwards is not run twice."""

from __future__ import annotations

from pathlib import Path

from terminal.report.commands import CommandProcessor, DedupCache
from terminal.report.seen import SeenRequests


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_dedup_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    db = tmp_path / "requests.sqlite"
    first = DedupCache(ttl_s=60, store=SeenRequests(db, clock=clock))
    assert first.check_and_add("r-1") == (False, None)
    first.remember_reply("r-1", {"request_id": "r-1", "ok": True, "accepted": True})
    first.store.close()  # type: ignore[union-attr]
    # A new process: empty memory, same file.
    second = DedupCache(ttl_s=60, store=SeenRequests(db, clock=clock))
    dup, reply = second.check_and_add("r-1")
    assert dup and reply == {"request_id": "r-1", "ok": True, "accepted": True}
    assert second.check_and_add("r-2") == (False, None)
    clock.t += 61  # expired on disk too
    third = DedupCache(ttl_s=60, store=SeenRequests(db, clock=clock))
    assert third.check_and_add("r-1") == (False, None)


def test_store_is_bounded(tmp_path: Path) -> None:
    clock = Clock()
    store = SeenRequests(tmp_path / "r.sqlite", max_entries=50, clock=clock)
    for i in range(300):
        clock.t += 1
        store.add(f"r-{i}", ttl_s=1000)
    assert store.count() <= 50 + 100  # pruned every 100 writes down to max_entries
    assert store.get("r-299")[0] and not store.get("r-0")[0]


def test_processor_replays_the_stored_reply_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "requests.sqlite"
    ran: list[str] = []

    def handler(name: str, payload: dict[str, object], reply: object) -> None:
        ran.append(str(payload["request_id"]))
        reply({"pong": False})  # type: ignore[operator]

    replies: list[dict[str, object]] = []
    p1 = CommandProcessor(require_deadline=False, seen_store=SeenRequests(db))
    p1.handler = handler
    assert p1.handle("cancel", b'{"request_id": "c-1"}', replies.append) == "HANDLED"
    p2 = CommandProcessor(require_deadline=False, seen_store=SeenRequests(db))  # after a restart
    p2.handler = handler
    assert p2.handle("cancel", b'{"request_id": "c-1"}', replies.append) == "DUPLICATE"
    assert ran == ["c-1"]
    assert replies[0] == replies[1] and replies[1]["ok"] is True
