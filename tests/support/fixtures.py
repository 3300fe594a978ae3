"""A real live member clip and the same person's enrolled reference template, for black-box runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def live_clip_and_reference(d: Path) -> tuple[Path, dict[str, Any]]:
    """A man looking at the camera and blinking (``live/fsw_bernard3073_data2``) under ``d/live``, and his
    reference enrolled from its ref.jpg with the real models; (clip, template dict)."""
    from terminal.cli.main import main as cli
    from tests.session.clips import live_frames, write_recording
    from tests.support.shared import data

    d.mkdir(parents=True, exist_ok=True)
    clip = write_recording(live_frames("fsw_bernard3073_data2"), d / "live")
    if (
        cli(
            [
                "enroll",
                str(data("live/fsw_bernard3073_data2/ref.jpg")),
                "--out",
                str(d / "ref.json"),
                "--skip",
                "UNSTEADY",
            ]
        )
        != 0
    ):
        raise RuntimeError("enrolment of the reference failed")
    return clip, json.loads((d / "ref.json").read_text())
