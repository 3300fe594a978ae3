"""Start at the terminal: number checks, the request through the real outbox, timeout and withdrawal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.kiosk.request import RequestDesk, check_number
from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig

NIK = "3201015507890001"


@pytest.mark.parametrize(
    ("kind", "number", "ok"),
    [
        ("nik", NIK, True),
        ("nik", "3201011507890001", True),  # man: day 15
        ("nik", "9471017112990123", True),  # woman born 31st (71), province 94
        ("nik", "1001011507890001", False),  # province 10
        ("nik", "9501011507890001", False),  # province 95
        ("nik", "3201013207890001", False),  # day 32
        ("nik", "3201017207890001", False),  # day 72
        ("nik", "3201011513890001", False),  # month 13
        ("nik", "3201011500890001", False),  # month 00
        ("nik", "3201011507890000", False),  # serial 0000
        ("nik", "320101150789000", False),  # 15 digits
        ("nik", "32010115078900011", False),  # 17 digits
        ("nik", "3201 011507890001", False),
        ("nik", "٣٢٠١٠١١٥٠٧٨٩٠٠٠١", False),  # Arabic-Indic digits are not accepted
        ("kpj", "16001234567", True),
        ("kpj", "1600123456", False),
        ("kpj", "11111111111", False),
        ("kpj", "1600123456a", False),
        ("passport", "16001234567", False),
        ("nik", "9" * 100_000, False),
        ("nik", NIK[:15] + "\n", False),  # 16 characters: "$" would match before the newline
        ("kpj", "1600123456\n", False),
    ],
)
def test_check_number(kind: str, number: str, ok: bool) -> None:
    why = check_number(kind, number)
    assert (why is None) is ok, why
    if why is not None:
        assert number not in why  # the reason never echoes the number


@given(st.text(max_size=40), st.sampled_from(["nik", "kpj", "x"]))
def test_check_number_never_crashes(number: str, kind: str) -> None:
    why = check_number(kind, number)
    assert why is None or isinstance(why, str)


def make_link(tmp_path: Path) -> MqttLink:
    """A real link and outbox, not started: requests wait in the outbox as they would while offline."""
    outbox = Outbox(tmp_path / "outbox.sqlite")
    return MqttLink(MqttConfig(brokers=["mqtt://127.0.0.1:1"]), "kiosk-unit", outbox)


def test_request_waits_times_out_and_is_withdrawn(tmp_path: Path) -> None:
    link = make_link(tmp_path)
    desk = RequestDesk(timeout_s=0.3, hold_s=0.3)
    assert desk.submit("nik", "0000000000000000", link)["code"] == "REQUEST_REFUSED"
    assert link.outbox.count() == 0
    sent = desk.submit("nik", NIK, link)
    assert sent["type"] == "start_sent"
    rid = sent["request_id"]
    [item] = link.outbox.list()
    assert item.topic_suffix == "request" and item.result_id == rid
    body = item.payload_dict()
    assert body["number"] == NIK and body["kind"] == "nik" and body["request_id"] == rid
    assert desk.submit("kpj", "16001234567", link)["code"] == "SCREEN_WAITING"  # one at a time
    assert desk.poll(None, link) == "waiting"
    time.sleep(0.35)
    assert desk.poll(None, link) == "request_timeout"
    assert link.outbox.count() == 0  # withdrawn: never sent after the member gave up
    for f in tmp_path.iterdir():
        assert NIK.encode() not in f.read_bytes(), f"the NIK is left in {f.name}"
    time.sleep(0.35)
    assert desk.poll(None, link) is None and desk.timed_out == 1
    link.outbox.close()


def test_request_answered_by_verify_and_shutdown_withdraws(tmp_path: Path) -> None:
    link = make_link(tmp_path)
    desk = RequestDesk(timeout_s=30, hold_s=1)
    rid = desk.submit("kpj", "16001234567", link)["request_id"]
    assert desk.poll("some-other-session", link) == "waiting"
    assert desk.poll(rid, link) is None and desk.answered == 1 and desk.pending is None
    desk.submit("nik", NIK, link)
    desk.cancel_all(link)
    assert link.outbox.count() == 1  # only the answered KPJ request (sent) is left; the open NIK is gone
    assert desk.submit("nik", NIK, None)["code"] == "OOS_STARTING"
    link.outbox.close()


def test_outbox_list_masks_the_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from terminal.cli.main import main

    link = make_link(tmp_path)
    RequestDesk(timeout_s=30, hold_s=1).submit("nik", NIK, link)
    link.outbox.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[terminal]\nstate_dir = "{tmp_path}"\n')
    assert main(["outbox", "list", "--json", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert NIK not in out and '"number": "****************"' in out.replace('":"', '": "')


def test_request_schema_in_the_docs_is_current() -> None:
    import json

    from terminal.kiosk.wire import request_schema

    doc = (Path(__file__).resolve().parents[2] / "docs" / "mqtt.md").read_text()
    assert "```json\n" + json.dumps(request_schema(), indent=2) + "\n```\n" in doc, "regenerate the block"


def test_security_doc_names_the_request_typ_the_code_uses() -> None:
    import re

    from terminal.kiosk.wire import REQUEST_TYP

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    typs = set(re.findall(r'typ="([a-z-]+-request\+jws)"', doc))
    assert typs == {REQUEST_TYP}, f"docs/security.md names {typs}, the code signs requests as {REQUEST_TYP}"


def test_acked_request_leaves_no_number_in_the_db_files(tmp_path: Path) -> None:
    link = make_link(tmp_path)
    desk = RequestDesk(timeout_s=30, hold_s=1)
    desk.submit("nik", NIK, link)
    [item] = link.outbox.list()
    assert any(NIK.encode() in f.read_bytes() for f in tmp_path.iterdir())  # it was there (WAL)
    assert link.outbox.ack_many([item.row_id]) == 1  # the broker's PUBACK
    for f in tmp_path.iterdir():
        assert NIK.encode() not in f.read_bytes(), f"the NIK is left in {f.name} after the ack"
    assert link.outbox.counter("acked_total") == 1
    desk.cancel_all(link)
    desk.submit("kpj", "16001234567", link)
    [item] = link.outbox.list()
    assert link.outbox.ack(item.row_id)  # the single-row ack scrubs too
    for f in tmp_path.iterdir():
        assert b"16001234567" not in f.read_bytes(), f"the KPJ is left in {f.name} after the ack"
    link.outbox.close()
