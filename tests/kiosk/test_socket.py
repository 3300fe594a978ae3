"""The page's WebSocket as an attacker drives it: no page cookie, hostile messages, a number never logged."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from terminal.kiosk.request import RequestDesk
from terminal.kiosk.server import KioskServer
from terminal.kiosk.settings import KioskConfig
from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.settings import MqttConfig
from tests.support.broker import free_port

NIK = "3171234507690001"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[KioskServer, MqttLink]]:
    """A real page server on a free port whose start handler is the real desk over a real (offline) outbox."""
    link = MqttLink(MqttConfig(brokers=["mqtt://127.0.0.1:1"]), "kiosk-sock", Outbox(tmp_path / "o.sqlite"))
    desk = RequestDesk(timeout_s=30, hold_s=1)
    srv = KioskServer(
        KioskConfig(enabled=True, port=free_port(), preview=False),
        {"terminal_id": "kiosk-sock"},
        lambda kind, number: desk.submit(kind, number, link),
    )
    assert srv.start()
    srv.publish({"screen": "idle"}, True)
    try:
        yield srv, link
    finally:
        srv.stop()
        link.outbox.close()


async def _session(port: int, *, page: bool) -> aiohttp.ClientSession:
    # unsafe=True: aiohttp's jar otherwise refuses cookies from an IP address such as 127.0.0.1
    s = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    if page:
        async with s.get(f"http://127.0.0.1:{port}/") as r:
            assert r.status == 200
    return s


async def _reply(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        frame = await ws.receive(timeout=5)
        assert frame.type == aiohttp.WSMsgType.TEXT, f"the socket closed instead of answering: {frame.type}"
        msg = json.loads(frame.data)
        if msg.get("type") != "state":
            return dict(msg)


def test_socket_needs_the_cookie_of_the_served_page(served: tuple[KioskServer, MqttLink]) -> None:
    srv, _ = served
    port = srv.port

    async def go() -> list[Any]:
        seen: list[Any] = []
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/") as r:
            cookie = r.headers.get("Set-Cookie", "").lower()
            seen.append(("httponly" in cookie, "samesite=strict" in cookie))
        for page, headers in (
            (False, {}),
            (False, {"Origin": f"http://127.0.0.1:{port}"}),
            (True, {"Origin": "http://evil.example"}),
            (True, {}),
        ):
            async with await _session(port, page=page) as s:
                try:
                    async with s.ws_connect(f"http://127.0.0.1:{port}/ws", headers=headers) as ws:
                        seen.append((await ws.receive(timeout=5)).type)
                except aiohttp.WSServerHandshakeError as err:
                    seen.append(err.status)
        async with aiohttp.ClientSession() as s:  # a guessed or stale token is refused too
            try:
                async with s.ws_connect(f"http://127.0.0.1:{port}/ws", headers={"Cookie": "kiosk_token=guess"}):
                    seen.append("connected")
            except aiohttp.WSServerHandshakeError as err:
                seen.append(err.status)
        return seen

    # no Origin and no cookie (any local process), the right Origin but no cookie, a foreign Origin: refused;
    # only a client that loaded the page is served
    assert asyncio.run(go()) == [(True, True), 403, 403, 403, aiohttp.WSMsgType.TEXT, 403]


def test_hostile_messages_are_answered_and_the_number_never_logged(
    served: tuple[KioskServer, MqttLink], caplog: pytest.LogCaptureFixture
) -> None:
    srv, link = served
    caplog.set_level(logging.DEBUG)

    async def go() -> list[dict[str, Any]]:
        replies = []
        async with await _session(srv.port, page=True) as s, s.ws_connect(f"http://127.0.0.1:{srv.port}/ws") as ws:
            await ws.send_str(json.dumps({"type": "start", "kind": "nik", "number": NIK[:15] + "\n"}))
            replies.append(await _reply(ws))
            await ws.send_str("[" * 1000)  # deeper than json.loads allows: RecursionError
            await ws.send_str(json.dumps({"type": "start", "kind": "nik", "number": NIK}))
            replies.append(await _reply(ws))  # the socket survived and still serves the member
            assert not ws.closed
        return replies

    refused, sent = asyncio.run(go())
    assert refused == {"type": "start_refused", "code": "REQUEST_REFUSED", "why": "digits only"}
    assert sent["type"] == "start_sent"
    assert link.outbox.count() == 1
    assert NIK not in caplog.text and "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_a_failing_handler_is_refused_without_the_input(
    served: tuple[KioskServer, MqttLink], caplog: pytest.LogCaptureFixture
) -> None:
    srv, _ = served

    def boom(kind: str, number: str) -> dict[str, Any]:
        raise ValueError(f"cannot use {number}")  # what a validation error's text looks like

    srv.on_start = boom
    caplog.set_level(logging.DEBUG)

    async def go() -> dict[str, Any]:
        async with await _session(srv.port, page=True) as s, s.ws_connect(f"http://127.0.0.1:{srv.port}/ws") as ws:
            await ws.send_str(json.dumps({"type": "start", "kind": "nik", "number": NIK}))
            return await _reply(ws)

    assert asyncio.run(go()) == {"type": "start_refused", "code": "REQUEST_REFUSED", "why": "bad message"}
    assert NIK not in caplog.text and "Traceback" not in caplog.text
    assert "message refused (ValueError)" in caplog.text
