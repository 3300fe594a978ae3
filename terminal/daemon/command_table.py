"""Commands of the daemon: an explicit table, taken in on the MQTT thread, run on the frame loop.

paho's thread only validates (terminal.report.commands) and queues; the frame loop drains the queue between
frames and runs each command from ``CommandTable.handlers``. A verify that arrives before the camera delivers
frames (the link is up before the first frame after a start) waits up to ``daemon.command_wait_s`` instead of
failing. Whatever a handler raises, the sender gets one reply: its CommandError code, or INTERNAL.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from terminal.report.errors import CommandError

if TYPE_CHECKING:
    from terminal.daemon.coordinator import SessionCoordinator
    from terminal.daemon.diag_job import DiagnoseJob
    from terminal.daemon.services import Services

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
MAX_WAITING = 32


@dataclass
class Pending:
    """A command taken in and not yet run."""

    name: str
    payload: dict[str, Any]
    reply: Reply
    wait_until: float


class CommandTable:
    """verify, cancel, diagnose (ping is answered by the link itself)."""

    def __init__(self, svc: Services, coordinator: SessionCoordinator, diag: DiagnoseJob) -> None:
        self.svc = svc
        self.coordinator = coordinator
        self.diag = diag
        self.handlers: dict[str, Callable[[dict[str, Any], Reply], None]] = {
            "verify": self.verify,
            "cancel": self.cancel,
            "diagnose": self.diagnose,
        }
        self._inbox: queue.Queue[Pending] = queue.Queue()
        self._waiting: list[Pending] = []

    def intake(self, name: str, payload: dict[str, Any], reply: Reply) -> None:
        """MQTT thread: queue a validated command for the frame loop (nothing else happens here)."""
        if name not in self.handlers:
            raise CommandError("NOT_SUPPORTED", f"the daemon does not serve {name}")
        self._inbox.put(Pending(name, payload, reply, time.monotonic() + self.svc.cfg.daemon.command_wait_s))

    def drain(self, frames_flowing: bool) -> None:
        """Frame loop: run what is queued; a verify waits (bounded) while the camera gives no frames."""
        while True:
            try:
                self._waiting.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if not self._waiting:
            return
        now = time.monotonic()
        keep: list[Pending] = []
        for cmd in self._waiting:
            if cmd.name == "verify" and not frames_flowing and now < cmd.wait_until:
                if len(keep) < MAX_WAITING:
                    keep.append(cmd)
                    continue
                self._refuse(cmd, CommandError("BUSY", f"{MAX_WAITING} commands already wait for the camera"))
                continue
            if cmd.name == "verify" and not frames_flowing:
                self._refuse(
                    cmd,
                    CommandError(
                        "CAMERA_DOWN",
                        f"no frames from the camera within "
                        f"{self.svc.cfg.daemon.command_wait_s:g} s "
                        f"({self.svc.camera.error or 'starting'}); not started",
                    ),
                )
                continue
            self._run(cmd)
        self._waiting = keep

    def _run(self, cmd: Pending) -> None:
        try:
            self.handlers[cmd.name](cmd.payload, cmd.reply)
        except CommandError as err:
            self._refuse(cmd, err)
        except Exception as err:  # a bug in a handler: one INTERNAL reply, the daemon goes on
            log.error(
                "command %s %s failed: %s: %s",
                cmd.name,
                cmd.payload.get("request_id"),
                type(err).__name__,
                err,
                extra={"journal": {"RESULT": "command_internal", "REASON": "INTERNAL"}},
            )
            log.debug("handler traceback", exc_info=True)
            self._refuse(cmd, CommandError("INTERNAL", "the terminal failed handling it; see its journal"))

    @staticmethod
    def _refuse(cmd: Pending, err: CommandError) -> None:
        log.warning("command %s %s refused: %s", cmd.name, cmd.payload.get("request_id"), err)
        try:
            cmd.reply({"ok": False, "error": {"code": err.code, "message": err.detail}})
        except Exception:
            log.exception("reply to %s failed", cmd.payload.get("request_id"))

    # ------------------------------------------------------------------ the commands (frame loop)
    def verify(self, payload: dict[str, Any], reply: Reply) -> None:
        """Store the request, start its session, reply accepted (in that order)."""
        reply(self.coordinator.verify(payload))

    def cancel(self, payload: dict[str, Any], reply: Reply) -> None:
        """Cancel the running session (or only the one with ``target_request_id``)."""
        target = payload.get("target_request_id")
        s = self.coordinator.session
        if s is None or (target is not None and target != s.request.request_id):
            reply({"cancelled": False, "reason": "no such session running"})
            return
        rid = self.coordinator.cancel("cancel command")
        reply({"cancelled": True, "target_request_id": rid})

    def diagnose(self, payload: dict[str, Any], reply: Reply) -> None:
        """Start the self-test on the worker (not during a session); it replies when done."""
        if self.coordinator.session is not None:
            raise CommandError("BUSY", "a session is running; diagnose after it")
        self.diag.start(self.svc.cfg, payload, reply, self.svc.link.state())
