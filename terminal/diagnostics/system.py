"""Diagnostics of the machine itself: versions, disk space, clock, CPU temperature and throttling."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import logging
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from terminal import __version__
from terminal.config import Config
from terminal.diagnostics.report import CheckResult, DiagnoseLimits

log = logging.getLogger(__name__)

# Distribution name -> module that must import for the terminal to work.
REQUIRED = {
    "numpy": "numpy",
    "mediapipe": "mediapipe",
    "opencv-contrib-python": "cv2",
    "paho-mqtt": "paho.mqtt",
    "gpiozero": "gpiozero",
    "pydantic": "pydantic",
}
TFLITE = {"ai-edge-litert": "ai_edge_litert", "tflite-runtime": "tflite_runtime"}

# vcgencmd get_throttled bits (Raspberry Pi firmware): now (0-3) and since boot (16-19).
THROTTLE_NOW = {0: "under-voltage", 1: "ARM frequency capped", 2: "throttled", 3: "soft temperature limit"}
THROTTLE_SINCE_BOOT = {16: "under-voltage", 17: "frequency capped", 18: "throttled", 19: "soft temperature limit"}
TIME_ERROR = 5  # adjtimex(2): the kernel clock is not synchronised


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _imports(module: str) -> str | None:
    """None if ``module`` imports, else the error."""
    try:
        __import__(module)
    except Exception as err:  # ImportError, or a binary wheel's ABI error
        return f"{type(err).__name__}: {err}"
    return None


def picamera2_problem(on_pi: bool | None = None) -> str | None:
    """On a Pi (or wherever picamera2 is installed): None if ``from picamera2 import Picamera2`` works, else why.

    The Bookworm break (Debian's numpy-1 simplejpeg under the venv's numpy 2) shows here as "numpy.dtype size
    changed"; setup.sh (firmware/picamera2_venv.sh) fixes it.
    """
    import importlib.util

    from terminal.pimodel import pi_model

    on_pi = pi_model() is not None if on_pi is None else on_pi
    if not on_pi and importlib.util.find_spec("picamera2") is None:
        return None
    try:
        from picamera2 import Picamera2  # noqa: F401
    except Exception as err:  # ImportError, or the ValueError of a C extension built for another numpy
        hint = (
            " (re-run ./setup.sh: it installs simplejpeg built for numpy 2 into the venv)"
            if "numpy" in str(err)
            else " (./setup.sh installs python3-picamera2)"
        )
        return f"picamera2: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}{hint}"
    return None


def os_release(root: Path = Path("/")) -> str:
    """PRETTY_NAME of /etc/os-release."""
    with contextlib.suppress(OSError):
        for line in (root / "etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip('"')
    return "unknown"


def check_versions() -> CheckResult:
    """Software versions; fails when a required package or every TFLite runtime cannot be imported."""
    versions: dict[str, str | None] = {"terminal": __version__, "python": platform.python_version()}
    problems = []
    for dist, module in REQUIRED.items():
        versions[dist] = _version(dist)
        error = _imports(module)
        if error:
            problems.append(f"{dist}: {error}")
    runtimes = {dist: _version(dist) for dist in TFLITE}
    versions.update(runtimes)
    if all(_imports(module) for module in TFLITE.values()):
        problems.append("no TFLite runtime imports (ai-edge-litert or tflite-runtime)")
    camera_problem = picamera2_problem()
    if camera_problem:
        problems.append(camera_problem)
    model = Path("/proc/device-tree/model")
    details = {
        "versions": versions,
        "os": os_release(),
        "kernel": platform.release(),
        "machine": model.read_text(errors="replace").strip("\0\n") if model.exists() else platform.machine(),
    }
    if problems:
        return CheckResult("versions", "fail", "; ".join(problems), details)
    litert = runtimes.get("ai-edge-litert") or f"tflite-runtime {runtimes.get('tflite-runtime')}"
    return CheckResult(
        "versions",
        "pass",
        f"terminal {__version__}, python {versions['python']}, mediapipe "
        f"{versions['mediapipe']}, litert {litert}, {details['os']}",
        details,
    )


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (the state dir may not exist yet)."""
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_disk(cfg: Config, lim: DiagnoseLimits) -> CheckResult:
    """Free space on the file system holding the state directory (outbox)."""
    where = _existing(Path(cfg.terminal.state_dir))
    usage = shutil.disk_usage(where)
    free_mb = usage.free / 1e6
    fraction = usage.free / usage.total if usage.total else 0.0
    details = {
        "path": str(where),
        "free_mb": round(free_mb, 1),
        "total_mb": round(usage.total / 1e6, 1),
        "free_fraction": round(fraction, 4),
    }
    summary = f"{free_mb:.0f} MB free of {usage.total / 1e6:.0f} MB ({100 * fraction:.1f}%) at {where}"
    if free_mb < lim.min_free_mb or fraction < lim.min_free_fraction:
        return CheckResult(
            "disk", "fail", f"{summary}; need {lim.min_free_mb:.0f} MB and {100 * lim.min_free_fraction:.0f}%", details
        )
    return CheckResult("disk", "pass", summary, details)


def _reference_time() -> float:
    """A moment the clock must be past: when this software was installed (its newest module file)."""
    package = Path(__file__).resolve().parent.parent
    return max(p.stat().st_mtime for p in package.glob("*/*.py"))


def ntp_synchronised(sys_root: Path = Path("/")) -> bool | None:
    """True/False from systemd-timesyncd's flag file or adjtimex(2); None when neither can tell."""
    if (sys_root / "run/systemd/timesync/synchronized").exists():
        return True
    if sys_root != Path("/"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex with modes = 0: read only
        state = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None  # EPERM inside the service's system-call filter (@clock is not allowed)
    return state != TIME_ERROR


def check_clock(
    sys_root: Path = Path("/"), now: Callable[[], float] = time.time, reference: Callable[[], float] = _reference_time
) -> CheckResult:
    """The wall clock is past the install time (TLS and result timestamps need it) and, ideally, NTP-synced."""
    wall, ref = now(), reference()
    synced = ntp_synchronised(sys_root)
    details = {
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall)),
        "ntp_synchronised": synced,
        "reference_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ref)),
    }
    if wall < ref - 86400:
        return CheckResult(
            "clock",
            "fail",
            f"clock says {details['utc']}, before this software was installed "
            f"({details['reference_utc']}): no RTC and no NTP? TLS will fail",
            details,
        )
    if synced is False:
        return CheckResult(
            "clock", "warn", f"{details['utc']}, not NTP-synchronised (check network/timesyncd)", details
        )
    return CheckResult("clock", "pass", f"{details['utc']}" + (", NTP-synchronised" if synced else ""), details)


def parse_throttled(text: str) -> int:
    """The bit field of ``vcgencmd get_throttled`` output (``throttled=0x50005``)."""
    return int(text.strip().partition("=")[2] or text.strip(), 16)


def throttle_problems(bits: int) -> tuple[list[str], list[str]]:
    """(happening now, happened since boot) from get_throttled bits."""
    now = [name for bit, name in THROTTLE_NOW.items() if bits & (1 << bit)]
    since = [name for bit, name in THROTTLE_SINCE_BOOT.items() if bits & (1 << bit)]
    return now, since


def cpu_temperature(sys_root: Path = Path("/")) -> float | None:
    """The SoC temperature in °C: the cpu-thermal zone, else the hottest zone; None without thermal zones."""
    zones = sorted((sys_root / "sys/class/thermal").glob("thermal_zone*"))
    readings: dict[str, float] = {}
    for zone in zones:
        with contextlib.suppress(OSError, ValueError):
            kind = (zone / "type").read_text().strip() if (zone / "type").exists() else zone.name
            readings[kind] = int((zone / "temp").read_text().strip()) / 1000.0
    if not readings:
        return None
    return readings.get("cpu-thermal", max(readings.values()))


def check_thermal(lim: DiagnoseLimits, sys_root: Path = Path("/"), vcgencmd: str | None = None) -> CheckResult:
    """CPU temperature against the limits, and the Pi firmware's under-voltage/throttling flags."""
    temp = cpu_temperature(sys_root)
    exe = vcgencmd or shutil.which("vcgencmd")
    bits: int | None = None
    if exe:
        try:
            out = subprocess.run([exe, "get_throttled"], capture_output=True, text=True, timeout=5, check=True)
            bits = parse_throttled(out.stdout)
        except (OSError, subprocess.SubprocessError, ValueError) as err:
            log.debug("vcgencmd get_throttled failed: %s", err)
    details = {"temp_c": temp, "throttled": None if bits is None else hex(bits)}
    if temp is None and bits is None:
        return CheckResult("thermal", "skip", "no thermal zone and no vcgencmd on this machine", details)
    now, since = throttle_problems(bits or 0)
    parts = [f"{temp:.1f} °C" if temp is not None else "temperature unknown"]
    if now:
        parts.append("NOW: " + ", ".join(now))
    if since:
        parts.append("since boot: " + ", ".join(since))
    summary = "; ".join(parts)
    if (temp is not None and temp >= lim.max_temp_c) or now:
        hint = " (power supply too weak?)" if "under-voltage" in now else " (ventilation?)"
        return CheckResult("thermal", "fail", summary + hint, details)
    if (temp is not None and temp >= lim.warn_temp_c) or since:
        return CheckResult("thermal", "warn", summary, details)
    return CheckResult("thermal", "pass", summary, details)
