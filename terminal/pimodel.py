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
