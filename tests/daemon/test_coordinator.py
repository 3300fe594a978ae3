"""The session coordinator in-process with the real models: result before event, a light fault, a full disk,
interrupted requests answered at start. (The black-box versions are in test_faults.py.)"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from terminal.config import load_config
from terminal.daemon.alarms import Alarms, LinkWatch
from terminal.daemon.coordinator import SessionCoordinator
from terminal.daemon.recovery import recover_unanswered
from terminal.daemon.services import Services, build_services, default_source_factory
from terminal.errors import HardwareError
from terminal.light.devices import mock_factory
from terminal.report.errors import CommandError
from tests.support.fixtures import live_clip_and_reference

pytestmark = pytest.mark.slow  # whole sessions with the real models


@pytest.fixture(scope="module")
def clip_and_ref(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return live_clip_and_reference(tmp_path_factory.mktemp("coord-clip"))


@pytest.fixture
def svc(tmp_path: Path, clip_and_ref: tuple[Path, dict[str, Any]]) -> Any:
    clip, _ = clip_and_ref
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(
        f'[terminal]\nid = "t-c"\nstate_dir = "{tmp_path / "state"}"\n[camera]\nbackend = "replay"\n'
        f'source = "{clip}"\nfps = 24.0\n[mqtt]\nenabled = false\nallow_insecure = true\n'
        f'[security]\nrequire_signed_commands = false\n[light]\npin_factory = "mock"\n'
    )
    s = build_services(load_config(cfg_file), default_source_factory, mock_factory(), lambda _t: None)
    yield s
    s.gate.close()  # MediaPipe's landmarker must be closed, not left to the garbage collector
    s.light.close()
    s.camera.close()
    s.outbox.close()


def verify(ref: dict[str, Any], rid: str, **kw: Any) -> dict[str, Any]:
    return {"request_id": rid, "deadline": time.time() + 600, "template": ref, "member_ref": f"m-{rid}", **kw}


def run_until_idle(svc: Services, coord: SessionCoordinator, frames: int = 400) -> None:
    for _ in range(frames):
        if coord.session is None:
            return
        frame = svc.camera.read()
        assert frame is not None
        coord.feed(frame)
    raise AssertionError("the session did not end")


def results(svc: Services) -> list[dict[str, Any]]:
    return [json.loads(item.payload) for item in svc.outbox.list()]


def test_result_is_stored_before_the_event_announces_it(svc: Services, clip_and_ref: Any) -> None:
    coord = SessionCoordinator(svc, Alarms())
    seen: list[tuple[str, int]] = []

    def record_event(event: dict[str, Any]) -> bool:
        seen.append((str(event.get("type")), svc.outbox.count()))
        return True

    svc.link.publish_event = record_event  # type: ignore[method-assign]
    reply = coord.verify(verify(clip_and_ref[1], "r-1", timeout_s=5.0))
    assert reply["accepted"] and svc.ledger.get("r-1").state == "accepted"  # type: ignore[union-attr]
    run_until_idle(svc, coord)
    (res,) = results(svc)
    assert res["request_id"] == "r-1" and res["member_ref"] == "m-r-1" and res["result_id"] == reply["result_id"]
    assert ("result", 1) in seen and all(n == 1 for kind, n in seen if kind == "result")
    assert svc.ledger.get("r-1").state == "answered"  # type: ignore[union-attr]
    again = coord.verify(verify(clip_and_ref[1], "r-1"))  # a retry never runs twice
    assert again == {"accepted": True, "state": "answered", "result_id": res["result_id"]} and coord.session is None


def test_timeout_s_is_honoured(svc: Services, clip_and_ref: Any) -> None:
    coord = SessionCoordinator(svc, Alarms())
    coord.verify(verify(clip_and_ref[1], "r-t", timeout_s=0.2))
    run_until_idle(svc, coord, frames=30)
    (res,) = results(svc)
    assert res["decision"] in ("timeout", "match") and res["timings"]["decision_s"] <= 0.3


def test_a_light_fault_ends_the_session_with_a_result_and_never_the_daemon(
    svc: Services, clip_and_ref: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from terminal.light.controller import LightController

    coord = SessionCoordinator(svc, Alarms())
    devices = svc.light.devices
    assert devices is not None

    def broken(*_a: Any, **_k: Any) -> Any:
        raise HardwareError("light.ring_pin = 18: cannot set duty (GPIO gone)")

    monkeypatch.setattr(LightController, "update", broken)  # the GPIO dies while dimming ...
    devices.off = broken  # type: ignore[method-assign]  # ... and cannot even be turned off
    assert svc.camera.read() is not None  # the camera is open, as in the daemon: the session gets the light
    coord.verify(verify(clip_and_ref[1], "r-l", timeout_s=5.0))
    run_until_idle(svc, coord)
    (res,) = results(svc)
    assert res["decision"] == "failed" and res["reason_code"] == "LIGHT_FAULT" and res["member_ref"] == "m-r-l"
    assert not coord.busy and svc.light.fault is not None and svc.light.devices is None
    svc.light.off()  # never raises
    coord.verify(verify(clip_and_ref[1], "r-l2", timeout_s=5.0))  # the next member is served without the light
    run_until_idle(svc, coord)
    assert [r["request_id"] for r in results(svc)] == ["r-l", "r-l2"]


def test_full_disk_refuses_new_sessions_with_an_alarm_and_recovers(svc: Services, clip_and_ref: Any) -> None:
    alarms = Alarms()
    coord = SessionCoordinator(svc, alarms)
    db = svc.outbox._db
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    for size in (4000, 400, 40, 4, 0):  # use up the free space of every page the new rows could land on
        for prefix in ("a", "r-", "r-full", "r-full-", "r-full-2", "s", "z"):
            for i in range(500):
                try:
                    db.execute(
                        "INSERT INTO requests VALUES (?, '', 'answered', 0, 0, ?)", (f"{prefix}{size}.{i}", "x" * size)
                    )
                except sqlite3.OperationalError:
                    break
    with pytest.raises(CommandError) as err:
        coord.verify(verify(clip_and_ref[1], "r-full"))
    assert err.value.code == "STORAGE_FULL" and "storage_full" in alarms
    with pytest.raises(CommandError):
        coord.verify(verify(clip_and_ref[1], "r-full-2"))
    db.execute("PRAGMA max_page_count = 1073741823")  # space is back
    coord.retry_unstored()
    assert "storage_full" not in alarms
    assert coord.verify(verify(clip_and_ref[1], "r-full"))["accepted"]  # the refused id is served now


def test_requests_interrupted_by_a_crash_are_answered_once_at_start(svc: Services) -> None:
    svc.ledger.accept("r-k", "0f6b1c2e-3d4a-4b5c-8d9e-0123456789ab", {"member_ref": "m-k", "n_reference": 1})
    assert recover_unanswered(svc.ledger, svc.link, "t-c", svc.matcher) == 1
    assert recover_unanswered(svc.ledger, svc.link, "t-c", svc.matcher) == 0
    (res,) = results(svc)
    assert (res["decision"], res["reason_code"], res["member_ref"]) == ("failed", "INTERRUPTED", "m-k")
    assert res["result_id"] == "0f6b1c2e-3d4a-4b5c-8d9e-0123456789ab"
    from terminal.session.schema import validate_result

    validate_result({k: v for k, v in res.items() if k != "queued_at"})


def test_link_watch_raises_after_the_set_time_and_clears() -> None:
    now = [0.0]
    alarms, watch = Alarms(), LinkWatch(30, clock=lambda: now[0])
    watch.check(alarms, {"state": "down", "down_for_s": 5.0, "broker": "b"})
    assert "link_down" not in alarms
    now[0] = 26
    watch.check(alarms, {"state": "stalled", "down_for_s": None, "broker": "b"})
    assert "link_down" in alarms
    watch.check(alarms, {"state": "up", "down_for_s": None, "broker": "b"})
    assert "link_down" not in alarms
