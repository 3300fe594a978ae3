"""``terminal run``: wires camera → gate → light → session → matching → outbox/MQTT for systemd.

The daemon only wires. ``Services`` (services.py) is built complete at start; the ``SessionCoordinator`` owns
sessions and the busy state; the ``CommandTable`` takes commands in on paho's thread and runs them here; the
frame loop (this module, the main thread) is the only thread touching the camera, the light and the session,
and publishes the health snapshot that other threads read. The systemd watchdog is pinged only for new frames.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from terminal.camera.frame import Frame
from terminal.config.schema import Config
from terminal.daemon.alarms import Alarms, LinkWatch
from terminal.daemon.command_table import CommandTable
from terminal.daemon.coordinator import SessionCoordinator
from terminal.daemon.diag_job import DiagnoseJob
from terminal.daemon.health import HealthBoard, Uptime, gather_health, status_line, versions
from terminal.daemon.recovery import recover_unanswered
from terminal.daemon.reload import reload_daemon
from terminal.daemon.sdnotify import FrameWatchdog, Notifier
from terminal.daemon.services import Services, SourceFactory, build_services, default_source_factory
from terminal.daemon.signals import SignalFlags
from terminal.errors import TerminalError
from terminal.kiosk.outputs import MemberOutputs

log = logging.getLogger(__name__)

MAX_LOOP_ERRORS = 50  # consecutive failing turns of the loop: something is badly wrong, let systemd restart us


class TerminalDaemon:
    """The long-running terminal service."""

    svc: Services
    coordinator: SessionCoordinator
    commands: CommandTable
    diag: DiagnoseJob

    def __init__(
        self,
        cfg: Config,
        config_path: Path | None = None,
        *,
        source_factory: SourceFactory | None = None,
        pin_factory: Any = None,
        notifier: Notifier | None = None,
        max_sessions: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.source_factory = source_factory or default_source_factory
        self.pin_factory = pin_factory
        self.notifier = notifier or Notifier()
        self.watchdog = FrameWatchdog(self.notifier)
        self.flags = SignalFlags()
        self.max_sessions = max_sessions
        self.alarms = Alarms()
        self.link_watch = LinkWatch(cfg.mqtt.link_down_alarm_s)
        self.board = HealthBoard(Uptime(), versions())
        self._started = self._ready = False
        self._last_tick = 0.0
        self._camera_down_since: float | None = None
        self._errors = 0
        self.member = MemberOutputs(cfg)  # member screen + voice: fed a snapshot per frame, never blocking

    # Read-only views for the member outputs (terminal.kiosk), which run on the frame loop.
    session = property(lambda self: self.coordinator.session)
    link = property(lambda self: self.svc.link)
    outbox = property(lambda self: self.svc.outbox)
    camera = property(lambda self: self.svc.camera)
    walkup_reference = property(lambda self: self.svc.walkup)

    def start(self) -> None:
        """Outbox, models, light, camera; answer interrupted requests; then the link. TerminalError if fatal."""
        self.svc = build_services(self.cfg, self.source_factory, self.pin_factory, self.notifier.status)
        self._started = True
        recover_unanswered(self.svc.ledger, self.svc.link, self.cfg.terminal.id, self.svc.matcher)
        d = self.cfg.daemon
        self.diag = DiagnoseJob(self.svc, d.diagnose_min_interval_s, d.diagnose_timeout_s)
        self.coordinator = SessionCoordinator(self.svc, self.alarms, lambda: self.diag.running)
        self.commands = CommandTable(self.svc, self.coordinator, self.diag)
        self._start_link()
        self.member.start(self)
        self.notifier.status("starting: opening camera")

    def _start_link(self) -> None:
        self.svc.link.set_command_handler(self.commands.intake)
        self.svc.link.set_health_provider(self.board.health)
        self.svc.link.start()

    def shutdown(self, reason: str = "stopping") -> None:
        """End the running session as cancelled (result stored), light off, flush the outbox, ``stopped``."""
        self.notifier.stopping(f"stopping: {reason}")
        if not self._started:
            return
        svc = self.svc
        if hasattr(self, "coordinator"):
            self.coordinator.cancel(reason)
        self.member.stop()
        svc.light.close()
        svc.camera.close()
        svc.link.stop(clean=True)
        depth = svc.outbox.count()
        svc.outbox.close()
        if depth:
            log.warning("stopped with %d result(s) still in the outbox; they are sent on the next start", depth)
        log.info("stopped (%s)", reason, extra={"journal": {"RESULT": "stopped"}})

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (or ``max_sessions``); exit code 0 on a clean stop."""
        self.flags.install()
        try:
            self.start()
            while not self.flags.stop_requested:
                if self.flags.take_reload():
                    self.reload()
                self._turn_safely()
                if (
                    self.max_sessions is not None
                    and self.coordinator.sessions_done >= self.max_sessions
                    and self.coordinator.session is None
                ):
                    break
            self.shutdown(self.flags.signal_name or "done")
            return 0
        except TerminalError:
            self.shutdown("fatal error")
            raise
        finally:
            self.flags.restore()

    def _turn_safely(self) -> None:
        try:
            self._turn()
            self._errors = 0
        except Exception as err:  # one bad turn (a bug, a driver) must not end the service
            self._errors += 1
            why = type(err).__name__
            journal = {"journal": {"RESULT": "loop_error", "REASON": why}}
            log.error("frame loop: %s: %s (%d in a row)", why, err, self._errors, extra=journal)
            log.debug("frame loop traceback", exc_info=True)
            if self._errors >= MAX_LOOP_ERRORS:
                raise
            self.flags.wait(0.05)

    def _turn(self) -> None:
        self.commands.drain(self._ready and self.svc.camera.state == "up")
        frame = self.svc.camera.read()
        if frame is None:
            self._camera_down()
        else:
            self._on_frame(frame)
        self.diag.loop.run_pending(self.cfg.daemon.frame_budget_s)

    def _on_frame(self, frame: Frame) -> None:
        self.watchdog.frame_arrived(frame.timestamp)
        self._camera_down_since = None
        if not self._ready:
            self._ready = True
            backend = self.svc.camera.describe().get("backend")
            log.info("ready: camera %s, models loaded, outbox %s", backend, self.svc.outbox.path)
            self.notifier.ready(self._tick(force=True))
        self.coordinator.feed(frame)
        self.diag.on_frame(frame)
        self.member.tick(self, frame)
        self._tick()

    def _camera_down(self) -> None:
        self.coordinator.source_ended()
        now = time.monotonic()
        if self._camera_down_since is None:
            self._camera_down_since = now
        if now - self._camera_down_since < self.cfg.daemon.camera_down_grace_s:
            self.watchdog.camera_down()  # the loop is alive and retrying: not a hang (see FrameWatchdog)
        self.member.tick(self, None)
        self._tick(force=True)
        # Sleep until the next retry, but wake for signals; commands are still answered meanwhile.
        self.flags.wait(min(0.5, max(0.05, self.svc.camera.retry_in())))

    def reload(self) -> None:
        """SIGHUP: load the config again; keep the running one when the new file is invalid."""
        reload_daemon(self)

    def _tick(self, force: bool = False) -> str:
        """Refresh alarms, the health snapshot and STATUS= (at most once a second unless forced)."""
        now = time.monotonic()
        if not force and now - self._last_tick < min(self.cfg.daemon.status_interval_s, 1.0):
            return self.notifier.last_status or ""
        self._last_tick = now
        snap = gather_health(self.svc, self.coordinator, self.diag, self.watchdog, self.alarms, self.link_watch)
        self.board.publish(snap)
        text = status_line(snap, self.svc.walkup is not None)
        self.notifier.status(text)
        return text
