"""What the member screen shows when no session runs: idle, out of service, waiting, the held result."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from terminal.config.schema import Config
from terminal.kiosk.snapshot import SnapshotBuilder, change_key, result_view
from terminal.report.outbox import Outbox


def daemon(tmp_path: Path, camera: str = "up", outbox: Outbox | None = None, walkup: bool = False) -> Any:
    """The daemon attributes the builder reads (the real daemon is driven in test_browser.py)."""
    return SimpleNamespace(
        session=None,
        camera=SimpleNamespace(state=camera),
        outbox=outbox or Outbox(tmp_path / "o.sqlite"),
        walkup_reference=object() if walkup else None,
    )


def cfg(**kiosk: Any) -> Config:
    return Config.model_validate({"kiosk": {"enabled": True, **kiosk}, "session": {"languages": ["id", "en"]}})


def test_idle_and_out_of_service(tmp_path: Path) -> None:
    b = SnapshotBuilder(cfg())
    idle = b.build(daemon(tmp_path), 0.0, None)
    assert idle["screen"] == "idle" and idle["text"]["id"] == "Sentuh untuk mulai" and idle["voice"] is None
    assert b.build(daemon(tmp_path, walkup=True), 0.0, None)["code"] == "SCREEN_IDLE_WALKUP"
    down = b.build(daemon(tmp_path, camera="down"), None, None)
    assert down["screen"] == "out_of_service" and down["code"] == "OOS_CAMERA" and down["voice"] == "OOS_CAMERA"
    assert b.build(daemon(tmp_path, camera="closed"), None, None)["code"] == "OOS_STARTING"
    maint = SnapshotBuilder(cfg(maintenance=True)).build(daemon(tmp_path), 0.0, None)
    assert maint["code"] == "OOS_MAINTENANCE"
    assert b.build(daemon(tmp_path), 0.0, "waiting")["screen"] == "waiting"
    assert b.build(daemon(tmp_path), 0.0, "request_timeout")["code"] == "REQUEST_TIMEOUT"


def test_full_outbox_is_out_of_service(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "full.sqlite", max_rows=10, reserve_rows=1)
    for i in range(10):
        box.put(f"r{i}", "result", {"i": i})
    assert not box.accepting()
    snap = SnapshotBuilder(cfg()).build(daemon(tmp_path, outbox=box), 0.0, None)
    assert snap["screen"] == "out_of_service" and snap["code"] == "OOS_OUTBOX"
    assert "penuh" in snap["text"]["id"]


def test_result_views_in_plain_words() -> None:
    langs = ("id", "en")
    m = result_view({"decision": "match", "reason_code": None, "request_id": "r1"}, langs)
    assert m["text"]["id"] == "Verifikasi berhasil" and m["voice"] == "RESULT_MATCH" and not m["reason_text"]
    n = result_view({"decision": "no_match", "reason_code": None}, langs)
    assert n["text"]["id"] == "Wajah tidak cocok, silakan hubungi petugas"
    t = result_view({"decision": "timeout", "reason_code": "TOO_DARK"}, langs)
    assert t["text"]["id"] == "Waktu habis" and t["reason_text"]["id"] == "Wajah terlalu gelap"
    assert t["voice"] == "RESULT_TIMEOUT+TOO_DARK"
    f = result_view({"decision": "failed", "reason_code": "LIVENESS_FAILED"}, langs)
    assert f["reason_text"]["en"] == "No blink was detected"
    odd = result_view({"decision": "weird", "reason_code": "NOT_A_CODE"}, langs)
    assert odd["code"] == "RESULT_FAILED" and odd["reason_text"] == {}


def test_change_key_ignores_time() -> None:
    a = {"screen": "guiding", "code": "TOO_DARK", "ts": 1.0, "remaining_s": 20.0, "seq": 1}
    b = {**a, "ts": 2.0, "remaining_s": 19.0, "seq": 2}
    assert change_key(a) == change_key(b)
    assert change_key(a) != change_key({**a, "code": "HOLD_STILL"})
