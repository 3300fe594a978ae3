"""``terminal run``: wires camera → gate → light → session → matching → outbox/MQTT for systemd.

The daemon owns one frame loop in the main thread. MQTT commands arrive on paho's thread and are queued;
the frame loop takes them between frames, so sessions, the camera and the light are only ever touched from
one thread. The systemd watchdog is pinged from this loop and only for new frames.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from terminal.analysis.gate import QualityGate
from terminal.camera import source_from_config
from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.config.schema import Config
from terminal.daemon.camera_supervisor import CameraSupervisor
from terminal.daemon.health import Uptime, health_fields, status_line, versions
from terminal.daemon.sdnotify import FrameWatchdog, Notifier
from terminal.daemon.signals import SignalFlags, changed_sections, reload_config
from terminal.errors import HardwareError, TerminalError
from terminal.kiosk.outputs import MemberOutputs
from terminal.light.controller import LightController
from terminal.light.devices import LightDevices
from terminal.matching.decision import Matcher
from terminal.matching.factory import build_matcher
from terminal.matching.template import Template, load_template
from terminal.privacy import private_dir, write_image
from terminal.report.commands import parse_deadline
from terminal.report.errors import CommandError
from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.templates import default_template_validator
from terminal.security.runtime import Security
from terminal.session.machine import SessionRequest, VerificationSession

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
SourceFactory = Callable[[Config], FrameSource]


def default_source_factory(cfg: Config) -> FrameSource:
    """The configured camera; a replay is paced like a camera and loops, as a daemon needs."""
    if cfg.camera.backend == "replay":
        return source_from_config(cfg.camera, realtime=True, loop=True)
    return source_from_config(cfg.camera)


class TerminalDaemon:
    """The long-running terminal service."""

    def __init__(self, cfg: Config, config_path: Path | None = None, *, source_factory: SourceFactory | None = None,
                 pin_factory: Any = None, notifier: Notifier | None = None, max_sessions: int | None = None) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.source_factory = source_factory or default_source_factory
        self.pin_factory = pin_factory
        self.notifier = notifier or Notifier()
        self.watchdog = FrameWatchdog(self.notifier)
        self.flags = SignalFlags()
        self.max_sessions = max_sessions
        self.uptime = Uptime()
        self.versions = versions()
        self.commands: queue.Queue[tuple[str, dict[str, Any], Reply]] = queue.Queue()
        self._busy = threading.Lock()  # held from an accepted verify until its result is stored
        self.outbox: Outbox | None = None
        self.link: MqttLink | None = None
        self.gate: QualityGate | None = None
        self.matcher: Matcher | None = None
        self.devices: LightDevices | None = None
        self.light_error: str | None = None
        self.camera = CameraSupervisor(lambda: self.source_factory(self.cfg), cfg.daemon.camera_retry_min_s,
                                       cfg.daemon.camera_retry_max_s)
        self.session: VerificationSession | None = None
        self.sessions_done = 0
        self.walkup_reference: Template | None = None
        self._next_walkup_check = 0.0
        self._walkup_quiet_until = 0.0
        self._ready = False
        self._last_status = 0.0
        self._status_text = ""
        self._last_frame: Frame | None = None
        self._camera_down_since: float | None = None
        self.member = MemberOutputs(cfg)  # member screen + voice: fed a snapshot per frame, never blocking

    # ------------------------------------------------------------------ start and stop
    def start(self) -> None:
        """Open the outbox and the MQTT link, load the models, claim the light; raise TerminalError if fatal."""
        self.notifier.status("starting: opening outbox")
        self.outbox = Outbox.from_config(self.cfg.outbox, self.cfg.terminal.state_dir)
        self.notifier.status("starting: loading models")
        self._load_models()
        self._start_link()
        self._open_light()
        self._load_walkup_reference()
        self.member.start(self)
        self.notifier.status("starting: opening camera")

    def _start_link(self) -> None:
        assert self.outbox is not None and self.matcher is not None
        emb = self.matcher.embedder
        # The link refuses a verify whose template was made by another model (WRONG_MODEL) before it is queued.
        validator = default_template_validator(model=emb.name, version=emb.version, dim=emb.dim)
        self.link = MqttLink(self.cfg.mqtt, self.cfg.terminal.id, self.outbox, template_validator=validator,
                             security=Security.from_config(self.cfg))  # signs results, opens signed commands
        self.link.set_command_handler(self._on_command)
        self.link.set_health_provider(self.health)
        self.link.start()

    def _load_models(self) -> None:
        self.gate = QualityGate.from_config(self.cfg, mode="video")
        self.matcher = build_matcher(self.cfg)

    def _open_light(self) -> None:
        if self.devices is not None:
            self.devices.close()
            self.devices = None
        if not self.cfg.light.enabled:
            return
        try:
            self.devices = LightDevices.from_config(self.cfg.light, self.pin_factory)
            self.devices.off()
            self.devices.show("idle")
            self.light_error = None
        except HardwareError as err:
            # A dead GPIO must not stop verification: sessions run with the camera's exposure alone.
            self.light_error = str(err)
            log.error("ring light unavailable, continuing without it: %s", err,
                      extra={"journal": {"RESULT": "light_down", "REASON": "LIGHT_FAULT"}})

    def _load_walkup_reference(self) -> None:
        path = self.cfg.daemon.walkup_reference
        self.walkup_reference = None
        if path is None:
            return
        assert self.matcher is not None
        emb = self.matcher.embedder
        self.walkup_reference = load_template(path, model=emb.name, version=emb.version, dim=emb.dim)
        log.info("walk-up mode: a session starts when a face appears (reference %s)", path.name)

    def shutdown(self, reason: str = "stopping") -> None:
        """End the running session as cancelled, flush the outbox, publish ``stopped``, light off."""
        self.notifier.stopping(f"stopping: {reason}")
        if self.session is not None and not self.session.done:
            self.session.cancel(reason)
            self._finish_session()
        self.member.stop()
        if self.devices is not None:
            self.devices.off()
            self.devices.close()
            self.devices = None
        self.camera.close()
        if self.link is not None:
            self.link.stop(clean=True)
        if self.outbox is not None:
            depth = self.outbox.count()
            self.outbox.close()
            if depth:
                log.warning("stopped with %d result(s) still in the outbox; they are sent on the next start", depth)
        log.info("stopped (%s)", reason, extra={"journal": {"RESULT": "stopped"}})

    # ------------------------------------------------------------------ the frame loop
    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (or ``max_sessions``); exit code 0 on a clean stop."""
        self.flags.install()
        try:
            self.start()
            while not self.flags.stop_requested:
                if self.flags.take_reload():
                    self.reload()
                self._drain_commands()
                frame = self.camera.read()
                if frame is None:
                    self._camera_down()
                    continue
                self._on_frame(frame)
                if self.max_sessions is not None and self.sessions_done >= self.max_sessions and self.session is None:
                    break
            self.shutdown(self.flags.signal_name or "done")
            return 0
        except TerminalError:
            self.shutdown("fatal error")
            raise
        finally:
            self.flags.restore()

    def _on_frame(self, frame: Frame) -> None:
        self.watchdog.frame_arrived(frame.timestamp)
        self._camera_down_since = None
        self._last_frame = frame
        if not self._ready:
            self._ready = True
            log.info("ready: camera %s, models loaded, outbox %s", self.camera.describe().get("backend"),
                     self.outbox.path if self.outbox else None)
            self.notifier.ready(self._status())
        if self.session is not None:
            if self.session.feed(frame):
                self._finish_session()
        elif self.walkup_reference is not None:
            self._walkup(frame)
        self.member.tick(self, frame)
        self._refresh_status(frame.timestamp)

    def _camera_down(self) -> None:
        if self.session is not None and not self.session.done:
            self.session.end_of_source()
            self._finish_session()
        now = time.monotonic()
        if self._camera_down_since is None:
            self._camera_down_since = now
        if now - self._camera_down_since < self.cfg.daemon.camera_down_grace_s:
            self.watchdog.camera_down()  # the loop is alive and retrying: not a hang (see FrameWatchdog)
        self.member.tick(self, None)
        self._refresh_status(None, force=True)
        # Sleep until the next retry, but wake for signals; commands are still answered meanwhile.
        self.flags.wait(min(0.5, max(0.05, self.camera.retry_in())))

    # ------------------------------------------------------------------ sessions
    def _start_session(self, request: SessionRequest, origin: str) -> None:
        assert self.gate is not None and self.matcher is not None and self.link is not None
        light = None
        if self.devices is not None and self.camera.source is not None:
            light = LightController(self.cfg.light, self.devices, camera=self.camera.source,
                                    flicker_hz=self.cfg.camera.flicker_hz, fps=self.cfg.camera.fps)
        self.session = VerificationSession.from_config(self.cfg, request, self.gate, self.matcher, light=light,
                                                       emit=self._emit, devices=self.devices)
        log.info("session %s started (%s)", request.request_id, origin,
                 extra={"journal": {"SESSION_ID": request.request_id, "TERMINAL_ID": self.cfg.terminal.id}})

    def _emit(self, event: dict[str, Any]) -> None:
        if self.link is not None:
            self.link.publish_event(event)  # QoS 0: guidance is only useful live, dropped while offline

    def _finish_session(self) -> None:
        session, self.session = self.session, None
        assert session is not None and session.result is not None and self.link is not None
        record = session.result
        if self.cfg.terminal.keep_images:
            self._keep_capture(session, record)
        try:
            self.link.publish_result(record)
        except TerminalError as err:
            log.critical("result %s could not be stored: %s", record.get("result_id"), err,
                         extra={"journal": {"SESSION_ID": session.request.request_id, "RESULT": "store_failed"}})
        score = record.get("score")
        log.info("session %s: %s%s%s", session.request.request_id, record["decision"],
                 f" score {score:.3f}" if isinstance(score, float) else "",
                 f" ({record.get('reason_code')})" if record.get("reason_code") else "",
                 extra={"journal": {"SESSION_ID": session.request.request_id, "TERMINAL_ID": self.cfg.terminal.id,
                                    "RESULT": record["decision"], "REASON": record.get("reason_code") or ""}})
        if session.light is not None:
            session.light.off()
        if self.devices is not None:
            self.devices.off()
            self.devices.show("idle")
        self.sessions_done += 1
        self._walkup_quiet_until = (self._last_frame.timestamp if self._last_frame else 0.0) \
            + self.cfg.daemon.walkup_cooldown_s
        if self._busy.locked():
            self._busy.release()

    def _keep_capture(self, session: VerificationSession, record: dict[str, Any]) -> None:
        """``keep_images``: the session's best frame, owner-only, under <state_dir>/captures (never sent)."""
        if session.kept_frame is None:
            return
        path = self.cfg.terminal.state_dir / "captures" / f"{record['result_id']}.jpg"
        try:
            private_dir(path.parent)
            write_image(path, cv2.cvtColor(session.kept_frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
            session.kept_frame = None
            record["capture_file"] = path.name
        except TerminalError as err:
            log.error("keep_images: %s", err)

    def _walkup(self, frame: Frame) -> None:
        if frame.timestamp < max(self._next_walkup_check, self._walkup_quiet_until):
            return
        self._next_walkup_check = frame.timestamp + self.cfg.daemon.walkup_check_s
        assert self.gate is not None and self.walkup_reference is not None
        if self.gate.analyze(frame.image, frame.timestamp).n_faces == 0:
            return
        if not self._busy.acquire(blocking=False):
            return
        rid = f"walkup-{int(time.time() * 1000)}"
        self._start_session(SessionRequest(rid, self.walkup_reference, None), "walk-up")
        self.session.feed(frame)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ commands (paho thread → queue)
    def _on_command(self, name: str, payload: dict[str, Any], reply: Reply) -> None:
        """Validate what needs the daemon's state, then queue the command for the frame loop."""
        if name == "verify":
            assert self.outbox is not None
            if self.camera.state != "up":
                raise CommandError("CAMERA_DOWN", f"the camera is not delivering frames ({self.camera.error}); "
                                   "not starting a session")
            if not self.outbox.accepting():
                raise CommandError("OUTBOX_FULL", "results cannot be stored; not starting a session")
            if not self._busy.acquire(blocking=False):
                raise CommandError("BUSY", "a session is running; send cancel first or retry later")
        elif name == "diagnose" and self._busy.locked():
            raise CommandError("BUSY", "a session is running; diagnose after it")
        self.commands.put((name, payload, reply))

    def _drain_commands(self) -> None:
        while True:
            try:
                name, payload, reply = self.commands.get_nowait()
            except queue.Empty:
                return
            try:
                getattr(self, f"_cmd_{name}")(payload, reply)
            except TerminalError as err:
                log.error("command %s failed: %s", name, err)
                reply({"ok": False, "error": {"code": getattr(err, "code", "FAILED"), "message": str(err)}})

    def _cmd_verify(self, payload: dict[str, Any], reply: Reply) -> None:
        assert self.matcher is not None
        template = Template.from_dict(payload["template"])
        deadline = payload.get("deadline")
        seconds = None if deadline is None else parse_deadline(deadline) - time.time()
        self._start_session(SessionRequest(payload["request_id"], template, seconds), "verify command")
        reply({"accepted": True, "state": "searching"})

    def _cmd_cancel(self, payload: dict[str, Any], reply: Reply) -> None:
        target = payload.get("target_request_id")
        s = self.session
        if s is None or (target is not None and target != s.request.request_id):
            reply({"cancelled": False, "reason": "no such session running"})
            return
        s.cancel("cancel command")
        self._finish_session()
        reply({"cancelled": True, "target_request_id": s.request.request_id})

    def _cmd_diagnose(self, payload: dict[str, Any], reply: Reply) -> None:
        from terminal.daemon.diagnose import CHECKS, run_diagnostics

        checks = payload.get("checks")
        # No MQTT probe: with client id = user name (docs/mqtt.md) it would replace the daemon's own session.
        only = [c for c in CHECKS if c != "mqtt"] if not checks or "all" in checks else checks
        report = run_diagnostics(self.cfg, source=self.camera.source, devices=self.devices, only=only)
        reply({"diagnostics": report.to_dict()})

    # ------------------------------------------------------------------ reload, status, health
    def reload(self) -> None:
        """SIGHUP: load the config again; keep the running one when the new file is invalid."""
        self.notifier.reloading()
        new, error = reload_config(self.config_path, self.cfg)
        if error is not None:
            self.notifier.ready(f"config reload refused: {error[:200]}")
            return
        changed = set(changed_sections(self.cfg, new))
        self.cfg = new
        if self.session is not None:
            self.session.cancel("config reloaded")
            self._finish_session()
        if changed & {"camera"}:
            self.camera.close()
            self.camera.state = "closed"
        if changed & {"quality", "matching", "models"}:
            self._load_models()
        if changed & {"light"}:
            self._open_light()
        if changed & {"daemon", "matching", "models"}:
            self._load_walkup_reference()
        if changed & {"mqtt", "outbox", "terminal", "security"} and self.link is not None and self.outbox is not None:
            self.link.stop(clean=True)
            self.outbox.close()
            self.outbox = Outbox.from_config(self.cfg.outbox, self.cfg.terminal.state_dir)
            self._start_link()
        if changed & {"kiosk", "voice", "session", "terminal"}:
            self.member.stop()
            self.member = MemberOutputs(self.cfg)
            self.member.start(self)
        self.notifier.ready(self._status())

    def _refresh_status(self, ts: float | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_status < min(self.cfg.daemon.status_interval_s, 1.0):
            return
        self._last_status = now
        text = self._status()
        if text != self._status_text:
            self._status_text = text
            self.notifier.status(text)

    def _status(self) -> str:
        return status_line(self)

    def health(self) -> dict[str, Any]:
        """Fields for the periodic health message (called from the MQTT thread: reads only)."""
        return health_fields(self)
