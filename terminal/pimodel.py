"""Which Raspberry Pi this is (from the device tree), and what follows from it: camera frame rate, PWM driver."""

from __future__ import annotations

import re
from pathlib import Path

MODEL_FILE = Path("/proc/device-tree/model")

# Frames per second the whole per-frame pipeline sustains, with headroom (docs/benchmarks.md, "Pi frame budget").
# Anything else (not a Pi, an unknown Pi, a Pi 3 or Zero 2) keeps the generic default.
FPS_BY_MODEL = {"pi5": 30.0, "pi4": 15.0}
GENERIC_FPS = 30.0


def model_text(model_file: Path | None = None) -> str:
    """The device tree's model string ('' when there is none: not a Pi, or no device tree)."""
    try:
        return (model_file or MODEL_FILE).read_bytes().rstrip(b"\0\n").decode("utf-8", errors="replace")
    except OSError:
        return ""


def pi_model(model_file: Path | None = None) -> str | None:
    """'pi5', 'pi4', 'pi3', 'pizero2', 'pi' for another Raspberry Pi, or None when this is not one."""
    text = model_text(model_file)
    if "Raspberry Pi" not in text:
        return None
    if "Zero 2" in text:
        return "pizero2"
    m = re.search(r"Raspberry Pi (?:Compute Module )?(\d+)", text)
    return f"pi{m.group(1)}" if m else "pi"


def default_fps(model_file: Path | None = None) -> float:
    """The ``[camera] fps`` default for this machine: measured budget per Pi model, else 30."""
    return FPS_BY_MODEL.get(pi_model(model_file) or "", GENERIC_FPS)


LSE_MARK = b"compiled with lse enabled"  # what a binary built for ARMv8.1 atomics prints before it aborts


def lse_problem(
    package_dir: Path | None, cpuinfo: Path = Path("/proc/cpuinfo"), machine: str | None = None
) -> str | None:
    """Why a native library under ``package_dir`` would abort on this CPU, or None.

    Binaries built with ARMv8.1 LSE atomics (mediapipe's aarch64 wheels, found by bench/arm64_check.sh) kill the
    process with SIGILL on a CPU without them, such as a Pi 4's Cortex-A72: better one clear line before that.
    """
    import platform

    if (machine or platform.machine()) != "aarch64" or package_dir is None:
        return None
    try:
        features = next(
            (ln for ln in cpuinfo.read_text(errors="replace").splitlines() if ln.startswith("Features")), ""
        )
    except OSError:
        return None
    if not features or "atomics" in features.split(":", 1)[-1].split():
        return None
    for lib in sorted(package_dir.rglob("*.so*")):
        try:
            if LSE_MARK in lib.read_bytes():
                return (
                    f"{lib.name} needs ARMv8.1 atomics (LSE), which this CPU lacks ({model_text() or 'aarch64'}; "
                    "a Pi 4's Cortex-A72 has none): it would abort. Use a Pi 5 (docs/benchmarks.md)"
                )
        except OSError:
            continue
    return None
