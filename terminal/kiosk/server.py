"""The page server: aiohttp on 127.0.0.1 in its own thread with its own asyncio loop.

The frame loop never waits for it: ``publish`` stores the latest snapshot and, only when something visible
changed, wakes the loop with ``call_soon_threadsafe`` (a few microseconds); ``offer_frame`` stores a reference
to the newest frame. The server's loop pushes state as JSON text messages and the preview as binary JPEG
messages over one WebSocket per page, encodes the preview (OpenCV releases the GIL while it resizes and
encodes) at ``preview_fps`` only while a page is connected, and drops preview frames for a page that is slow
rather than queueing them. JPEGs exist only in memory and only on the loopback interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import cv2
import numpy as np
from aiohttp import WSMsgType, web

from terminal.kiosk.settings import KioskConfig

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never another interface: the preview shows a member's face
StartHandler = Callable[[str, str], dict[str, Any]]
COOKIE = "kiosk_token"  # set by GET / (HttpOnly, SameSite=Strict), required on /ws
STATIC = {
    "/": ("index.html", "text/html"),
    "/kiosk.css": ("kiosk.css", "text/css"),
    "/kiosk.js": ("kiosk.js", "application/javascript"),
}


class KioskServer:
    """Serves the page and its WebSocket; thread-safe ``publish``/``offer_frame`` for the frame loop."""

    def __init__(self, cfg: KioskConfig, static: dict[str, Any], on_start: StartHandler | None = None) -> None:
        self.cfg = cfg
        self.static = static  # terminal id, support number, languages: sent with every state message
        self.on_start = on_start
        self.port = cfg.port
        self.error: str | None = None
        self.stats = {"clients": 0, "states_sent": 0, "previews_sent": 0, "previews_dropped": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._snapshot: dict[str, Any] | None = None
        self._frame: np.ndarray | None = None
        self._frame_seq = 0
        self._wake: asyncio.Event | None = None
        self._clients: set[web.WebSocketResponse] = set()
        self._busy: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._token = ""  # a new random one per start: only a page served by this run may open /ws
        self._files = {
            path: (resources.files("terminal.kiosk").joinpath("static", name).read_bytes(), ctype)
            for path, (name, ctype) in STATIC.items()
        }

    # ------------------------------------------------------------------ frame-loop side
    def publish(self, snapshot: dict[str, Any], changed: bool) -> None:
        """Make ``snapshot`` current; push it at once when ``changed`` (else the heartbeat carries it)."""
        self._snapshot = snapshot
        loop, wake = self._loop, self._wake
        if changed and loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    def offer_frame(self, image: np.ndarray | None) -> None:
        """The newest RGB frame for the preview (a reference; encoded on the server's thread when due)."""
        if self.cfg.preview and self._clients:
            self._frame = image
            self._frame_seq += 1

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> bool:
        """Start the thread and bind the port; False (logged, the daemon runs on) if it cannot serve."""
        self._token = secrets.token_urlsafe(32)
        self._thread = threading.Thread(target=self._run, name="kiosk", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        if self.error is None and self._loop is None:
            self.error = "the page server did not start in time"
        if self.error is not None:
            log.error("member screen unavailable: %s", self.error)
            return False
        log.info("member screen on http://%s:%d/", HOST, self.port)
        return True

    def stop(self) -> None:
        """Close the pages' sockets and stop the loop."""
        loop = self._loop
        if loop is not None and self._stopper is not None:
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(self._stopper(), loop).result(5)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    _stopper: Callable[[], Any] | None = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except Exception as err:  # the screen is optional: never take the daemon down with it
            self.error = str(err)
            log.error("member screen stopped: %s", err)
        finally:
            self._loop = None
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=4096)
        app.router.add_get("/ws", self._ws)
        for path in self._files:
            app.router.add_get(path, self._file)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port)
        try:
            await site.start()
        except OSError as err:
            self.error = f"cannot listen on {HOST}:{self.port}: {err.strerror or err}"
            await runner.cleanup()
            return
        self._wake = asyncio.Event()
        done = asyncio.Event()

        async def stopper() -> None:
            done.set()

        self._stopper = stopper
        self._loop = asyncio.get_running_loop()
        self._ready.set()
        tasks = [asyncio.create_task(self._push_states()), asyncio.create_task(self._push_preview())]
        await done.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)
        for ws in list(self._clients):
            await ws.close()
        await runner.cleanup()

    # ------------------------------------------------------------------ HTTP
    async def _file(self, request: web.Request) -> web.Response:
        body, ctype = self._files[request.path]
        headers = {
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": f"default-src 'self'; img-src 'self' blob:; "
            f"connect-src 'self' ws://{HOST}:{self.port} ws://localhost:{self.port}",
        }
        resp = web.Response(body=body, content_type=ctype, headers=headers)
        if request.path == "/":
            resp.set_cookie(COOKIE, self._token, path="/", httponly=True, samesite="Strict")
        return resp

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin not in (None, f"http://{HOST}:{self.port}", f"http://localhost:{self.port}"):
            raise web.HTTPForbidden(text="foreign origin")  # no other web page may drive the terminal
        # Nor another local process (which sends no Origin at all): only a client that loaded the page this
        # server served holds the cookie, so nobody else can stream the member's face preview.
        if not self._token or not secrets.compare_digest(
            request.cookies.get(COOKIE, "").encode(), self._token.encode()
        ):
            raise web.HTTPForbidden(text="load the page first")
        ws = web.WebSocketResponse(compress=False, max_msg_size=1024, heartbeat=10.0)
        await ws.prepare(request)
        self._clients.add(ws)
        self.stats["clients"] = len(self._clients)
        try:
            if self._snapshot is not None:
                await self._send_state(ws, self._snapshot)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_message(ws, msg.data)
        finally:
            self._clients.discard(ws)
            self.stats["clients"] = len(self._clients)
        return ws

    async def _on_message(self, ws: web.WebSocketResponse, data: str) -> None:
        try:
            await self._handle(ws, data)
        except ConnectionError:  # the page went away mid-reply
            return
        except Exception as err:  # a hostile page must not kill the socket nor put its input in the journal
            log.warning("member screen: message refused (%s)", type(err).__name__)  # never the input itself
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(
                    json.dumps({"type": "start_refused", "code": "REQUEST_REFUSED", "why": "bad message"})
                )

    async def _handle(self, ws: web.WebSocketResponse, data: str) -> None:
        try:
            msg = json.loads(data)
        except (ValueError, RecursionError):  # "[" * 1000 nests deeper than the parser allows
            return
        if not isinstance(msg, dict) or msg.get("type") != "start":
            return
        kind, number = msg.get("kind"), msg.get("number")
        snap = self._snapshot or {}
        if not isinstance(kind, str) or not isinstance(number, str) or self.on_start is None:
            reply: dict[str, Any] = {"type": "start_refused", "code": "REQUEST_REFUSED", "why": "bad message"}
        elif snap.get("screen") != "idle" or not self.cfg.keypad:
            reply = {"type": "start_refused", "code": snap.get("code") or "OOS_STARTING", "why": "not idle"}
        else:
            # The outbox write is fsynced (a few ms): off the loop, so state pushes are not delayed.
            reply = await asyncio.get_running_loop().run_in_executor(None, self.on_start, kind, number)
        await ws.send_str(json.dumps(reply))

    # ------------------------------------------------------------------ pushes
    async def _send_state(self, ws: web.WebSocketResponse, snap: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps({"type": "state", **self.static, **snap}))
            self.stats["states_sent"] += 1

    async def _push_states(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.heartbeat_s)
            self._wake.clear()
            snap = self._snapshot
            if snap is not None and self._clients:
                await asyncio.gather(*(self._send_state(ws, snap) for ws in list(self._clients)))

    async def _push_preview(self) -> None:
        period = 1.0 / self.cfg.preview_fps
        sent_seq = -1
        next_t = time.monotonic()
        while True:
            next_t = max(next_t + period, time.monotonic())
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))
            frame, seq = self._frame, self._frame_seq
            if frame is None or seq == sent_seq or not self._clients:
                continue
            sent_seq = seq
            jpeg = self._encode(frame)
            for ws in list(self._clients):
                if ws in self._busy:
                    self.stats["previews_dropped"] += 1  # slow page: skip a frame, never queue
                    continue
                task = asyncio.create_task(self._send_preview(ws, jpeg))
                self._tasks.add(task)  # keep a reference until done (the loop only holds weak ones)
                task.add_done_callback(self._tasks.discard)

    async def _send_preview(self, ws: web.WebSocketResponse, jpeg: bytes) -> None:
        self._busy.add(ws)
        try:
            await ws.send_bytes(jpeg)
            self.stats["previews_sent"] += 1
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._busy.discard(ws)

    def _encode(self, rgb: np.ndarray) -> bytes:
        h, w = rgb.shape[:2]
        width = min(self.cfg.preview_width, w)
        small = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, self.cfg.jpeg_quality])
        return buf.tobytes() if ok else b""
