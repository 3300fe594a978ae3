"""A live clip (a Yale subject blinking) and the same subject's enrolled reference template, for black-box runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def live_clip_and_reference(d: Path, seconds: float = 4.0) -> tuple[Path, dict[str, Any]]:
    """Write the clip under ``d/live`` and enrol ``d/ref.json`` with the real models; (clip, template dict)."""
    import cv2

    from terminal.cli.main import main as cli
    from tests.session.clips import blink_clip, write_recording, yale

    d.mkdir(parents=True, exist_ok=True)
    clip = write_recording(blink_clip(yale(2, "normal"), yale(2, "sleepy"), seconds=seconds, blinks=(0.8, 2.4),
                                      fps=24.0), d / "live")
    img = d / "subject02.png"
    cv2.imwrite(str(img), cv2.cvtColor(yale(2, "normal"), cv2.COLOR_RGB2BGR))
    if cli(["enroll", str(img), "--out", str(d / "ref.json"), "--skip", "UNSTEADY,OCCLUDED_GLASSES"]) != 0:
        raise RuntimeError("enrolment of the reference failed")
    return clip, json.loads((d / "ref.json").read_text())
