"""``diagnose`` over MQTT: one at a time, rate-limited, on a worker thread that never blocks the frame loop.

The checks run on a worker thread. They never touch the camera or the GPIO themselves: frames come from the
frame loop (which hands each new frame to the job while it runs), and every hardware call (camera controls,
light duty) is queued to the frame loop, which runs at most ``budget_s`` of them between two frames. So the
watchdog keeps being fed from live frames, and the one-thread rule for hardware holds.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.report.errors import CommandError

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.daemon.services import Services

log = logging.getLogger(__name__)

Reply = Callable[[dict[str, Any]], None]
CALL_TIMEOUT_S = 5.0


class LoopCalls:
    """Calls posted by the worker, run on the frame loop: ``call(fn)`` blocks the worker, never the loop."""

    def __init__(self) -> None:
        self._calls: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()

    def call(self, fn: Callable[[], Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run ``fn`` on the frame loop and return its result (TimeoutError if the loop does not get to it)."""
        fut: Future[Any] = Future()
        self._calls.put((fn, fut))
        return fut.result(timeout)

    def run_pending(self, budget_s: float) -> None:
        """Frame loop: run queued calls for at most ``budget_s`` (one at least, if any)."""
        end = time.monotonic() + budget_s
        while True:
            try:
                fn, fut = self._calls.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn())
                except BaseException as err:  # handed to the worker, which reports the check as failed
                    fut.set_exception(err)
            if time.monotonic() >= end:
                return


class TapSource(FrameSource):
    """The daemon's camera as the checks see it: frames from the frame loop, controls applied on the loop."""

    name = "daemon-camera"

    def __init__(self, job: DiagnoseJob, describe: dict[str, Any]) -> None:
        super().__init__()
        self.job = job
        self._describe = describe

    def _start(self) -> None:
        return None

    def _stop(self) -> None:
        return None

    def _read(self) -> Frame | None:
        try:
            return self.job.frames.get(timeout=30.0)
        except queue.Empty:
            return None

    def _apply_controls(self, controls: dict[str, Any]) -> dict[str, Any]:
        svc = self.job.svc
        self.job.loop.call(lambda: svc.camera.source.set_controls(controls) if svc.camera.source else None)
        return controls

    def describe(self) -> dict[str, Any]:
        """What the frame loop reported about the camera when the job started."""
        return dict(self._describe)


class _Pin:
    def __init__(self, job: DiagnoseJob) -> None:
        self.job = job

    @property
    def state(self) -> float | None:
        devices = self.job.svc.light.devices
        return self.job.loop.call(lambda: getattr(devices.ring.pin, "state", None) if devices else None)


class _Ring:
    def __init__(self, job: DiagnoseJob) -> None:
        self.pin = _Pin(job)


class LightProxy:
    """The daemon's light as the checks see it: every call runs on the frame loop through the light owner."""

    def __init__(self, job: DiagnoseJob) -> None:
        self.job = job
        self.ring = _Ring(job)

    def _devices(self) -> Any:
        devices = self.job.svc.light.devices
        if devices is None:
            raise RuntimeError(f"the light is out of service: {self.job.svc.light.fault}")
        return devices

    @property
    def duty(self) -> float:
        """The ring light's duty."""
        return float(self.job.loop.call(lambda: self._devices().duty))

    def set_duty(self, x: float, dt: float | None = None) -> float:
        """Ramp the ring light towards ``x`` (on the frame loop)."""
        return float(self.job.loop.call(lambda: self._devices().set_duty(x, dt)))

    def off(self) -> None:
        """Light off through the owner (never raises)."""
        self.job.loop.call(self.job.svc.light.off)

    def close(self) -> None:
        """The daemon keeps its devices."""
        return None


class DiagnoseJob:
    """At most one diagnose at a time, not more often than ``min_interval_s``."""

    def __init__(self, svc: Services, min_interval_s: float, timeout_s: float) -> None:
        self.svc = svc
        self.min_interval_s = min_interval_s
        self.timeout_s = timeout_s
        self.loop = LoopCalls()
        self.frames: queue.Queue[Frame] = queue.Queue(maxsize=8)
        self._thread: threading.Thread | None = None
        self._started = -1e18
        self.runs = 0

    @property
    def running(self) -> bool:
        """A diagnose is running (it holds the camera and the light: sessions wait)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, cfg: Config, payload: Mapping[str, Any], reply: Reply, link_state: dict[str, Any]) -> None:
        """Frame loop: start a run, or CommandError(BUSY / RATE_LIMITED)."""
        now = time.monotonic()
        if self.running:
            raise CommandError("BUSY", "a diagnose is already running")
        if now - self._started < self.min_interval_s:
            raise CommandError(
                "RATE_LIMITED",
                f"diagnose again in {self.min_interval_s - (now - self._started):.0f} s "
                "(daemon.diagnose_min_interval_s)",
            )
        self._started = now
        self.runs += 1
        from terminal.diagnostics.report import CHECKS

        checks = payload.get("checks")
        # No MQTT probe: with client id = user name (docs/mqtt.md) it would replace the daemon's own session;
        # the reply carries the link's own state instead.
        only = [c for c in CHECKS if c != "mqtt"] if not checks or "all" in checks else list(checks)
        # Always the daemon's own camera and light (never opened a second time from this thread): a camera that
        # is down gives no frames and fails its check; a light out of service fails with its fault.
        source = TapSource(self, self.svc.camera.describe())
        devices = LightProxy(self)
        self._drain_frames()
        self._thread = threading.Thread(
            target=self._work, args=(cfg, only, source, devices, reply, link_state), name="diagnose", daemon=True
        )
        self._thread.start()

    def on_frame(self, frame: Frame) -> None:
        """Frame loop: hand the frame to a running job (the oldest is dropped when it lags)."""
        if not self.running:
            return
        if self.frames.full():
            self._drain_frames(1)
        with contextlib.suppress(queue.Full):
            self.frames.put_nowait(frame)

    def _drain_frames(self, n: int = 1 << 30) -> None:
        for _ in range(n):
            try:
                self.frames.get_nowait()
            except queue.Empty:
                return

    def _work(
        self,
        cfg: Config,
        only: list[str] | None,
        source: FrameSource,
        devices: Any,
        reply: Reply,
        link_state: dict[str, Any],
    ) -> None:
        from terminal.diagnostics.runner import run_diagnostics

        t0 = time.monotonic()
        try:
            report = run_diagnostics(cfg, source=source, devices=devices, only=only)
            reply({"diagnostics": report.to_dict(), "link": link_state})
        except Exception as err:  # the sender always gets an answer
            log.error("diagnose failed: %s: %s", type(err).__name__, err)
            reply({"ok": False, "error": {"code": "INTERNAL", "message": f"diagnose failed: {type(err).__name__}"}})
        log.info("diagnose over MQTT took %.1f s", time.monotonic() - t0)

    def describe(self) -> dict[str, Any]:
        """For health: running, how many runs, and whether the current one overran ``timeout_s``."""
        elapsed = time.monotonic() - self._started
        return {"running": self.running, "runs": self.runs, "overrun": self.running and elapsed > self.timeout_s}
