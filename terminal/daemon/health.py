"""Health fields of the daemon: uptime, camera, light, session, CPU temperature, versions."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal import __version__

if TYPE_CHECKING:
    from terminal.daemon.alarms import Alarms, LinkWatch
    from terminal.daemon.coordinator import SessionCoordinator
    from terminal.daemon.diag_job import DiagnoseJob
    from terminal.daemon.sdnotify import FrameWatchdog
    from terminal.daemon.services import Services

_PACKAGES = ("mediapipe", "ai-edge-litert", "tflite-runtime", "paho-mqtt", "gpiozero", "numpy")


def versions() -> dict[str, str]:
    """Versions of the terminal and of the packages that matter in the field."""
    out = {"terminal": __version__}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def cpu_temperature_c(sys_root: Path = Path("/")) -> float | None:
    """SoC temperature in °C from the first thermal zone, or None where there is none."""
    p = sys_root / "sys/class/thermal/thermal_zone0/temp"
    try:
        return round(int(p.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def load_average() -> float | None:
    """One-minute load average."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


class Uptime:
    """Seconds since the daemon started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.started, 1)


def base_health(uptime: Uptime, vers: dict[str, str]) -> dict[str, Any]:
    """The fields every health message carries."""
    return {"uptime_s": uptime(), "cpu_temp_c": cpu_temperature_c(), "load_1m": load_average(), "versions": vers}


class HealthBoard:
    """The health snapshot: built by the frame loop (the only thread touching camera, light and session),
    read by the MQTT thread for the health message. Replacing one dict reference is atomic."""

    def __init__(self, uptime: Uptime, vers: dict[str, str]) -> None:
        self.uptime = uptime
        self.versions = vers
        self._snapshot: dict[str, Any] = {}

    def publish(self, snapshot: dict[str, Any]) -> None:
        """Frame loop: the latest state."""
        self._snapshot = snapshot

    def health(self) -> dict[str, Any]:
        """MQTT thread: the daemon's fields of the health message (a copy of the last snapshot)."""
        return {**base_health(self.uptime, self.versions), **self._snapshot}


def status_line(snap: dict[str, Any], walkup: bool) -> str:
    """The one-line state systemd shows as STATUS= (``systemctl status terminal``), from a snapshot."""
    cam = snap["camera"]
    link = snap["link_state"]
    mqtt = (
        "mqtt up" if link["state"] in ("up", "disabled") else f"mqtt {link['state']} {link.get('down_for_s') or 0:.0f}s"
    )
    alarms = snap.get("alarms") or []
    tail = [mqtt] + ([f"ALARM {' '.join(alarms)}"] if alarms else [])
    if cam["state"] != "up":
        return ", ".join([f"camera down: {cam.get('error', 'not open')} (retrying)", *tail])
    s = snap.get("session")
    parts = [
        f"session {s['request_id']}: {s['state']}"
        if s
        else ("idle, walk-up mode" if walkup else "idle, waiting for verify")
    ]
    if snap.get("diagnose", {}).get("running"):
        parts.append("diagnose running")
    parts.append(f"{cam['fps']:.0f} fps")
    depth = snap.get("outbox_depth", 0)
    if depth:
        parts.append(f"outbox {depth}")
    if snap["light"].get("error"):
        parts.append("light fault")
    return ", ".join(parts + tail)


def gather_health(
    svc: Services,
    coordinator: SessionCoordinator,
    diag: DiagnoseJob,
    watchdog: FrameWatchdog,
    alarms: Alarms,
    link_watch: LinkWatch,
) -> dict[str, Any]:
    """On the frame loop: restart a dead link, refresh the alarms, and return the health snapshot to publish.

    Everything is read here, on the thread that owns the hardware; other threads only read the published copy.
    """
    link = svc.link.state()
    if link["state"] == "dead":
        svc.link.ensure_running()
    link_watch.alarm_after_s = svc.cfg.mqtt.link_down_alarm_s
    link_watch.check(alarms, link)
    coordinator.retry_unstored()
    alarms.set("light_fault", svc.light.fault is not None, svc.light.fault or "", level=logging.ERROR)
    return {
        "camera": svc.camera.describe(),
        "light": svc.light.describe(),
        "session": coordinator.describe(),
        "sessions_done": coordinator.sessions_done,
        "diagnose": diag.describe(),
        "watchdog": {"enabled": watchdog.enabled, "pings": watchdog.pings},
        "link_state": link,
        "alarms": alarms.active(),
        "alarm_details": alarms.describe(),
        "outbox_depth": svc.outbox.count(),
    }
