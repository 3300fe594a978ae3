"""`terminal diagnose`'s light check measures flicker at half duty: software PWM warns, hardware PWM passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.diagnostics.runner import run_diagnostics
from tests.daemon.test_diagnose import FRAMES, make_config
from tests.support.shared import data


@pytest.mark.slow
@pytest.mark.parametrize(("pwm", "status", "verdict"), [("software", "warn", "flicker"), ("hardware", "pass", "ok")])
def test_light_check_reports_flicker(tmp_path: Path, pwm: str, status: str, verdict: str) -> None:
    spec = f"sim:{data(FRAMES)}/000000.jpg?ambient=0.05&pwm={pwm}"
    report = run_diagnostics(make_config(tmp_path), source_spec=spec, only=["camera", "light"])
    light = report.get("light")
    assert light.status == status, light.summary
    flicker = light.details["flicker"]
    assert flicker["verdict"] == verdict and flicker["frames"] == 12 and flicker["duty"] == pytest.approx(0.425)
    assert ("flickers on camera" in light.summary) == (verdict == "flicker")
    assert "frame-to-frame" in light.summary and "banding" in light.summary
    if verdict == "ok":
        assert flicker["frame_variation"] < 0.01 and flicker["banding"] < 0.01
    else:
        assert max(flicker["frame_variation"], flicker["banding"]) >= 0.01
