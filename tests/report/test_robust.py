"""Commands that used to silence reporting: huge numbers, deep nesting, a full disk, a crashing link thread."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from terminal.report.codes import CODES, TEMPORARY
from terminal.report.commands import CommandProcessor
from terminal.report.errors import CommandError
from terminal.report.seen import SeenRequests
from terminal.report.templates import default_template_validator
from tests.report.helpers import MODEL, template_dict

BIG = "1" + "0" * 400


def processor(tmp_path: Path | None = None, **kw: Any) -> CommandProcessor:
    store = SeenRequests(tmp_path / "requests.sqlite") if tmp_path is not None else None
    return CommandProcessor(template_validator=default_template_validator(model=MODEL, dim=128), seen_store=store, **kw)


def send(p: CommandProcessor, name: str, raw: str | bytes) -> tuple[str, list[dict[str, Any]]]:
    replies: list[dict[str, Any]] = []
    out = p.handle(name, raw.encode() if isinstance(raw, str) else raw, replies.append)
    return out, replies


def verify_raw(rid: str, **over: Any) -> str:
    body = {"request_id": rid, "deadline": time.time() + 600, "template": template_dict(), **over}
    return json.dumps(body)


@pytest.mark.parametrize(
    "raw",
    [
        '{"request_id": "h1", "deadline": ' + BIG + ', "template": {}}',
        '{"request_id": "h2", "deadline": -' + BIG + ', "template": {}}',
        '{"request_id": "h3", "deadline": 1e308, "template": {}}',
        '{"request_id": "h4", "deadline": "9999-12-31T23:59:59Z", "template": {}}',
        '{"request_id": "h5", "deadline": "+999999999-01-01T00:00:00Z", "template": {}}',
    ],
)
def test_huge_or_far_deadlines_are_invalid_not_fatal(raw: str) -> None:
    p = processor()
    out, replies = send(p, "verify", raw)
    assert out == "INVALID" and replies[0]["error"]["code"] == "INVALID"
    assert send(p, "ping", '{"request_id": "after"}')[0] == "OK"


def test_huge_numbers_and_deep_nesting_anywhere() -> None:
    p = processor()
    p.handler = lambda n, pl, r: r({"accepted": True})
    cases = [
        verify_raw("n1", timeout_s=int(BIG)),
        verify_raw("n2").replace('"count": 2', '"count": ' + BIG),
        "[" * 50_000 + "]" * 50_000,
        '{"request_id": "n3", "x": ' + "[" * 17 + "]" * 17 + "}",
        '{"request_id": ' + BIG + "}",
        '{"request_id": "n4", "checks": [' + BIG + "]}",
    ]
    for raw in cases:
        out, replies = send(p, "verify" if raw.startswith('{"request_id": "n') else "diagnose", raw)
        assert len(replies) == 1 and out != "INTERNAL", raw[:80]  # answered, never a crash
        assert out == "HANDLED" or (out in CODES and replies[0]["ok"] is False)
    assert send(p, "ping", '{"request_id": "alive"}')[0] == "OK"


def test_far_deadline_refused_with_the_horizon_in_the_message() -> None:
    p = processor(deadline_horizon_s=3600)
    out, replies = send(p, "verify", verify_raw("f1", deadline=time.time() + 7200))
    assert out == "INVALID" and "deadline_horizon_s" in replies[0]["error"]["message"]


def test_temporary_refusal_is_not_cached_a_retry_is_served(tmp_path: Path) -> None:
    p = processor(tmp_path)
    calls = []

    def handler(name: str, payload: dict[str, Any], reply: Any) -> None:
        calls.append(payload["request_id"])
        if len(calls) == 1:
            raise CommandError("BUSY", "a session is running")
        if len(calls) == 2:
            reply({"ok": False, "error": {"code": "CAMERA_DOWN", "message": "no frames"}})  # from the frame loop
            return
        reply({"accepted": True})

    p.handler = handler
    assert send(p, "verify", verify_raw("t1"))[0] == "BUSY"
    out, replies = send(p, "verify", verify_raw("t1"))
    assert out == "HANDLED" and replies[0]["error"]["code"] == "CAMERA_DOWN"
    out, replies = send(p, "verify", verify_raw("t1"))
    assert out == "HANDLED" and replies[0]["accepted"] is True
    out, again = send(p, "verify", verify_raw("t1"))  # now it is final: the same reply, nothing runs again
    assert out == "DUPLICATE" and again == replies and calls == ["t1"] * 3
    assert {"BUSY", "CAMERA_DOWN", "STORAGE_FULL", "INTERNAL"} <= TEMPORARY


def test_an_exception_anywhere_answers_internal_and_the_processor_goes_on(tmp_path: Path) -> None:
    p = processor(tmp_path)
    assert p.dedup.store is not None

    def broken(*_a: Any) -> None:
        raise OverflowError("int too large to convert to float")

    p.dedup.store.add = broken  # type: ignore[method-assign]
    out, replies = send(p, "cancel", '{"request_id": "x1"}')
    assert out == "INTERNAL" and replies[0]["error"]["code"] == "INTERNAL"
    assert send(p, "ping", '{"request_id": "alive"}')[0] == "OK"


def fill_disk(store: SeenRequests) -> None:
    """SQLite's own SQLITE_FULL, as on a full disk: the database may not grow, and its free space is used up."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    n = 0
    for size in (2000, 200, 20, 1):
        while True:
            try:
                store._db.execute("INSERT INTO seen VALUES (?, 0, ?)", (f"filler-{n}", "x" * size))
                n += 1
            except sqlite3.OperationalError:
                break


def test_full_disk_refuses_verify_keeps_serving_and_recovers(tmp_path: Path) -> None:
    p = processor(tmp_path)
    p.handler = lambda n, pl, r: r({"accepted": True} if n == "verify" else {"cancelled": False})
    store = p.dedup.store
    assert store is not None
    fill_disk(store)
    outcomes = [send(p, "verify", verify_raw(f"v{i}")) for i in range(50)]
    full = [replies for out, replies in outcomes if out == "STORAGE_FULL"]
    assert len(full) >= 40 and all(r[0]["error"]["code"] == "STORAGE_FULL" for r in full)
    assert {out for out, _ in outcomes} <= {"STORAGE_FULL", "HANDLED"}  # a row that still fits a page is served
    assert send(p, "cancel", '{"request_id": "c1"}')[0] == "HANDLED"  # de-duplicated in memory meanwhile
    assert send(p, "ping", '{"request_id": "p1"}')[0] == "OK"
    store._db.execute("PRAGMA max_page_count = 1073741823")  # space is back
    out, replies = send(p, "verify", verify_raw("v-after"))
    assert out == "HANDLED" and replies[0]["accepted"] is True


@pytest.mark.broker
def test_link_thread_failure_is_restarted_and_reported(mosquitto_factory: Any, tmp_path: Path) -> None:
    """An exception inside the link's loop restarts it; a dead thread is reported 'dead' and brought back."""
    from terminal.report.link import MqttLink
    from terminal.report.outbox import Outbox
    from terminal.report.settings import MqttConfig
    from tests.report.helpers import Central

    broker = mosquitto_factory()
    central = Central(broker)
    link = MqttLink(
        MqttConfig(brokers=[broker.url], backoff_min_s=0.1, backoff_max_s=0.3), "t9", Outbox(tmp_path / "o.sqlite")
    )
    real_flush = link._flush
    calls = {"n": 0}

    def flaky_flush(client: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OverflowError("int too large to convert to float")
        real_flush(client)

    link._flush = flaky_flush  # type: ignore[method-assign]
    link.start()
    try:
        end = time.monotonic() + 10
        while link.stats["restarts"] < 1 or not link.connected:
            assert time.monotonic() < end, link.state()
            time.sleep(0.02)
        assert link.state()["state"] == "up"
        link.publish_result({"decision": "match"})
        central.wait_for("t9/result")
        # The thread itself gone (as if killed): the state says so, ensure_running brings it back.
        link._stop.set()
        assert link._thread is not None
        link._thread.join(5)
        link._stop.clear()
        assert link.state()["state"] == "dead"
        assert link.ensure_running() and link.stats["restarts"] == 2
        end = time.monotonic() + 10
        while not link.connected:
            assert time.monotonic() < end
            time.sleep(0.02)
        assert link.state()["state"] == "up" and link.state()["down_for_s"] is None
    finally:
        link.stop()
        central.close()


@pytest.mark.slow
def test_the_fuzz_corpus_in_process_every_command_answered_once_never_internal(tmp_path: Path) -> None:
    """The same 2,000 cases bench/fuzz_commands.py sends through the broker, straight into the processor."""
    from tests.report.fuzz_corpus import corpus

    p = processor(tmp_path)
    p.handler = lambda name, payload, reply: reply(
        {"accepted": True, "state": "searching"}
        if name == "verify"
        else {"cancelled": False, "reason": "no such session running"}
        if name == "cancel"
        else {"diagnostics": {}}
    )
    outcomes = []
    for name, raw, _kind in corpus(2000, 1, template_dict()):
        out, replies = send(p, name, raw)
        assert len(replies) == 1, (name, raw[:100])
        outcomes.append(out)
    assert "INTERNAL" not in outcomes and outcomes.count("HANDLED") > 100
    assert send(p, "ping", '{"request_id": "alive"}')[0] == "OK"
