"""Served request ids survive a restart: a command re-delivered by the broker afterwards is not run twice."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    first = DedupCache(ttl_s=60, clock=clock, store=SeenRequests(db, clock=clock))
    assert first.check_and_add("r-1") == (False, None)
    first.remember_reply("r-1", {"request_id": "r-1", "ok": True, "accepted": True})
    first.store.close()  # type: ignore[union-attr]
    # A new process: empty memory, same file.
    second = DedupCache(ttl_s=60, clock=clock, store=SeenRequests(db, clock=clock))
    dup, reply = second.check_and_add("r-1")
    assert dup and reply == {"request_id": "r-1", "ok": True, "accepted": True}
    assert second.check_and_add("r-2") == (False, None)
    clock.t += 61  # expired on disk too
    third = DedupCache(ttl_s=60, clock=clock, store=SeenRequests(db, clock=clock))
    assert third.check_and_add("r-1") == (False, None)


@pytest.mark.slow
def test_store_never_forgets_an_unexpired_id_and_refuses_when_full(tmp_path: Path) -> None:
    """10,050 other commands do not push an id out (the reported replay); a full store refuses, OVERLOADED."""
    import pytest

    from terminal.report.errors import CommandError

    clock = Clock()
    store = SeenRequests(tmp_path / "r.sqlite", max_entries=10_100, clock=clock)
    store.add("captured", clock.t + 86400)
    store.set_reply("captured", {"ok": True})
    for i in range(10_050):
        store.add(f"r-{i}", clock.t + 1000)
    assert store.get("captured") == (True, {"ok": True})
    for i in range(49):
        store.add(f"s-{i}", clock.t + 1000)
    with pytest.raises(CommandError) as err:
        store.add("one-too-many", clock.t + 1000)
    assert err.value.code == "OVERLOADED"
    clock.t += 1001  # the short-lived ids expire; room again, the captured one is still known
    store.add("one-too-many", clock.t + 1000)
    assert store.get("captured")[0] and not store.get("r-5")[0]


def test_a_request_never_answered_is_served_after_restart(tmp_path: Path) -> None:
    """The process died between receiving a command and answering it: nothing ran, so a retry runs it."""
    db = tmp_path / "requests.sqlite"
    first = DedupCache(ttl_s=60, store=SeenRequests(db))
    assert first.check_and_add("r-1") == (False, None)
    second = DedupCache(ttl_s=60, store=SeenRequests(db))
    assert second.check_and_add("r-1") == (False, None)


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
