"""Rolling-shutter flicker figures: software PWM (jitter model) against hardware PWM with the whole-periods rule.

Run: .venv/bin/python bench/bench_flicker.py [--frames N]
Prints a table (banding = row-to-row, frame = frame-to-frame mean brightness, both relative std in %) and one JSON
line. 480 rows read over 85% of a 30 fps frame; exposure fixed. Figures are recorded in docs/light.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.camera.recording import read_image_rgb
from terminal.light.controller import whole_pwm_periods
from terminal.light.flicker import flicker_of
from terminal.light.pwmwave import HardwarePWM, RollingShutter, SoftwarePWM, flicker_figures
from terminal.light.simscene import SimSource
from tests.support.shared import data

P24 = 1e6 / 24000


def cases() -> list[tuple[str, object, float]]:
    """(label, waveform factory taking duty, exposure µs)."""
    return [
        ("software 1 kHz, default jitter model, 10 ms", lambda d: SoftwarePWM(1000, d, seed=1), 10000),
        (
            "software 1 kHz, mild jitter (5 µs, 0.5% x 150 µs), 10 ms",
            lambda d: SoftwarePWM(1000, d, jitter_us=5, stall_p=0.005, stall_us=150, seed=1),
            10000,
        ),
        ("hardware 1 kHz, 10.25 ms (no rule)", lambda d: HardwarePWM(1000, d, phase_us=3.1), 10250),
        ("hardware 24 kHz, 5.013 ms (no rule)", lambda d: HardwarePWM(24000, d, phase_us=3.1), 5013),
        (
            "hardware 24 kHz, rule, 10 ms (50 Hz mains)",
            lambda d: HardwarePWM(24000, d, phase_us=3.1),
            whole_pwm_periods(10000, P24),
        ),
        (
            "hardware 24 kHz, rule, 8.333 ms (60 Hz mains)",
            lambda d: HardwarePWM(24000, d, phase_us=3.1),
            round(whole_pwm_periods(8333, P24)),
        ),
        (
            "hardware 24 kHz, rule, 5.013 -> 5.0 ms",
            lambda d: HardwarePWM(24000, d, phase_us=3.1),
            round(whole_pwm_periods(5013, P24)),
        ),
    ]


def main() -> int:
    """Print the table and the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args()
    out = []
    print(f"{'case':58s} {'duty':>5s} {'banding %':>10s} {'frame %':>8s}")
    for label, make, exposure in cases():
        for duty in (0.1, 0.5, 0.85):
            cam = RollingShutter(rows=480, line_us=0.85 * (1e6 / 30) / 480, exposure_us=exposure)
            fig = flicker_figures(cam.row_light(make(duty), args.frames))  # type: ignore[operator]
            out.append({"case": label, "duty": duty, **{k: round(100 * v, 4) for k, v in fig.items()}})
            print(f"{label:58s} {duty:5.2f} {100 * fig['banding']:10.3f} {100 * fig['frame_variation']:8.3f}")
    face = read_image_rgb(data("conditions/single_face") / "mpl_grace_hopper.jpg")
    for pwm in ("software", "hardware"):
        src = SimSource([face], ambient=0.05, duty=0.5, pwm=pwm, seed=2)
        src.start()
        src.set_controls({"AeEnable": False, "ExposureTime": 10000, "AnalogueGain": 1.0})
        fig = flicker_of([src.read().image for _ in range(args.frames)])  # type: ignore[union-attr]
        src.stop()
        label = f"sim portrait (sensor noise included), {pwm} PWM, 10 ms"
        out.append({"case": label, "duty": 0.5, **{k: round(100 * v, 4) for k, v in fig.items()}})
        print(f"{label:58s} {0.5:5.2f} {100 * fig['banding']:10.3f} {100 * fig['frame_variation']:8.3f}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
