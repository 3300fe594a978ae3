"""The daemon's one hook for what the member sees and hears: the page server and the voice.

``tick`` runs on the frame loop for every frame (and while the camera is down): it builds the snapshot
(microseconds), hands it to the page and the voice without waiting for either, and settles start requests.
Any error here is logged once and switched off: the member screen must never stop verification.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from terminal.kiosk.request import RequestDesk
from terminal.kiosk.snapshot import SnapshotBuilder, change_key

if TYPE_CHECKING:
    from terminal.camera.frame import Frame
    from terminal.config.schema import Config
    from terminal.kiosk.server import KioskServer
    from terminal.voice.player import VoicePlayer

log = logging.getLogger(__name__)


class MemberOutputs:
    """Snapshot per frame → page (WebSocket) and voice (aplay); start-at-terminal requests."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.builder = SnapshotBuilder(cfg)
        self.desk = RequestDesk(cfg.kiosk.request_timeout_s, cfg.kiosk.result_hold_s)
        self.server: KioskServer | None = None
        self.voice: VoicePlayer | None = None
        self.snapshot: dict[str, Any] | None = None
        self._key: tuple[Any, ...] | None = None
        self._daemon: Any = None
        self._broken = False

    @property
    def active(self) -> bool:
        """True if the page or the voice is on."""
        return self.server is not None or self.voice is not None

    def start(self, daemon: Any) -> None:
        """Start the page server and the voice thread as configured (failures are logged, never raised)."""
        self._daemon = daemon
        if self.cfg.kiosk.enabled:
            from terminal.kiosk.server import KioskServer

            static = {
                "terminal_id": self.cfg.terminal.id,
                "support_phone": self.cfg.kiosk.support_phone,
                "languages": list(self.cfg.session.languages),
                "keypad": self.cfg.kiosk.keypad,
                "hide_cursor": self.cfg.kiosk.hide_cursor,
                "keypad_idle_s": self.cfg.kiosk.keypad_idle_s,
            }
            server = KioskServer(self.cfg.kiosk, static, on_start=self._on_start)
            self.server = server if server.start() else None
        if self.cfg.voice.enabled:
            from terminal.voice.player import VoicePlayer
            from terminal.voice.prompts import PromptCache

            self.voice = VoicePlayer(
                self.cfg.voice, PromptCache.from_config(self.cfg.voice, self.cfg.terminal.state_dir)
            )
            self.voice.start()

    def stop(self) -> None:
        """Withdraw an unanswered request, stop speaking, close the page server."""
        self.desk.cancel_all(self._daemon.link if self._daemon is not None else None)
        if self.voice is not None:
            self.voice.stop()
            self.voice = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def tick(self, daemon: Any, frame: Frame | None) -> None:
        """Frame loop: build the snapshot and hand it on; never blocks, never raises."""
        if not self.active or self._broken:
            return
        try:
            session = daemon.session
            rid = session.request.request_id if session is not None else None
            screen = self.desk.poll(rid, daemon.link)
            snap = self.builder.build(daemon, frame.timestamp if frame is not None else None, screen)
            key = change_key(snap)
            changed, self._key = key != self._key, key
            self.snapshot = snap
            if self.server is not None:
                self.server.publish(snap, changed)
                if frame is not None:
                    self.server.offer_frame(frame.image)
            if self.voice is not None:
                self.voice.say(snap.get("voice"))
        except Exception:
            self._broken = True  # one log line, then off: the frame loop must go on
            log.exception("member screen/voice disabled after an error")

    def _on_start(self, kind: str, number: str) -> dict[str, Any]:
        """The page asks to start (page thread): check the number and send the request."""
        link = self._daemon.link if self._daemon is not None else None
        return self.desk.submit(kind, number, link)
