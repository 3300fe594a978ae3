"""Health fields of the daemon: uptime, camera, light, session, CPU temperature, versions."""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal import __version__

if TYPE_CHECKING:
    from terminal.daemon.app import TerminalDaemon

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


def status_line(d: TerminalDaemon) -> str:
    """The one-line state systemd shows as STATUS= (``systemctl status terminal``)."""
    cam = d.camera.describe()
    if cam["state"] != "up":
        return f"camera down: {cam.get('error', 'not open')} (retrying)"
    parts = [f"session {d.session.request.request_id}: {d.session.state.value}" if d.session
             else ("idle, walk-up mode" if d.walkup_reference is not None else "idle, waiting for verify")]
    parts.append(f"{cam['fps']:.0f} fps")
    parts.append("mqtt up" if d.link is not None and d.link.connected else "mqtt down")
    depth = d.outbox.count() if d.outbox is not None else 0
    if depth:
        parts.append(f"outbox {depth}")
    if d.light_error:
        parts.append("light fault")
    return ", ".join(parts)


def health_fields(d: TerminalDaemon) -> dict[str, Any]:
    """The daemon's fields of the periodic health message (read-only: called from the MQTT thread)."""
    h = base_health(d.uptime, d.versions)
    h["camera"] = d.camera.describe()
    h["light"] = {"available": d.devices is not None, "error": d.light_error,
                  "duty": round(d.devices.duty, 3) if d.devices is not None else None}
    s = d.session
    h["session"] = {"state": s.state.value, "request_id": s.request.request_id} if s is not None else None
    h["sessions_done"] = d.sessions_done
    h["watchdog"] = {"enabled": d.watchdog.enabled, "pings": d.watchdog.pings}
    return h
