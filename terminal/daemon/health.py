"""Health fields of the daemon: uptime, camera, light, session, CPU temperature, versions."""

from __future__ import annotations

import importlib.metadata
import os
import time
from pathlib import Path
from typing import Any

from terminal import __version__

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
