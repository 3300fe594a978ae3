"""``terminal light``: technician's light test and the closed loop on a simulated scene."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from terminal.camera import open_source, source_from_config
from terminal.camera.base import FrameSource
from terminal.camera.recording import IMAGE_SUFFIXES, read_image_rgb
from terminal.cli.common import add_config_arg, config_from_args, print_json
from terminal.errors import HardwareError, SourceError
from terminal.light.controller import LightController, LightState
from terminal.light.devices import LightDevices, mock_factory
from terminal.light.measure import measure, to_linear
from terminal.light.settings import LightConfig

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the ``light`` subcommand with ``test`` and ``simulate``."""
    p = sub.add_parser("light", help="ring light: technician test, closed loop on a simulated scene")
    lsub = p.add_subparsers(dest="light_command", metavar="ACTION", required=True)

    t = lsub.add_parser("test", help="step the ring light through its range and print the measured brightness")
    t.add_argument("--source", default=None, help="frame source (default: [camera]); sim:IMAGE runs on mock pins")
    t.add_argument("--steps", type=int, default=6, help="duty steps from 0 to max_duty")
    t.add_argument("--frames", type=int, default=3, help="frames averaged per step")
    t.add_argument(
        "--flicker-frames",
        type=int,
        default=30,
        help="frames held at half of max_duty to measure flicker (frame-to-frame, banding); 0 = skip",
    )
    t.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    add_config_arg(t)
    t.set_defaults(func=run_test)

    s = lsub.add_parser("simulate", help="run the brightness loop on a simulated scene built from IMAGE")
    s.add_argument("image", help="image, image folder or recording to re-light")
    s.add_argument(
        "--ambient", type=float, required=True, help="ambient light relative to the recording (1 = as recorded)"
    )
    s.add_argument("--frames", type=int, default=30, help="frames to run")
    s.add_argument("--dead-lamp", action="store_true", help="the lamp gives no light (LIGHT_FAULT expected)")
    s.add_argument(
        "--face",
        choices=["auto", "gate", "centre"],
        default="auto",
        help="face region: the quality gate (auto: if it loads) or centre weighting",
    )
    s.add_argument("--seed", type=int, default=0, help="sensor-noise seed")
    s.add_argument("--json", action="store_true", help="JSON lines; the last line is the summary")
    add_config_arg(s)
    s.set_defaults(func=run_simulate)


def _open(spec: str | None, cfg: Any, devices: LightDevices) -> FrameSource:
    if spec is None:
        return source_from_config(cfg.camera)
    if spec.startswith("sim:"):
        return open_source(spec, cfg.camera, devices=devices)
    return open_source(spec, cfg.camera)


def run_test(args: argparse.Namespace) -> int:
    """Step the duty, measure brightness per step at a fixed exposure, fail when the lamp changes nothing."""
    cfg = config_from_args(args)
    light = cfg.light
    simulated = bool(args.source and args.source.startswith("sim:"))
    devices = LightDevices.from_config(light, mock_factory() if simulated else None)
    dt = 1.0 / cfg.camera.fps
    rows: list[dict[str, float]] = []
    try:
        with _open(args.source, cfg, devices) as src:
            src.set_controls({"AeEnable": False, "ExposureTime": light.base_exposure_us, "AnalogueGain": 1.0})
            n = max(2, args.steps)
            for i in range(n):
                level = light.max_duty * i / (n - 1)
                while abs(devices.duty - level) > 1e-6:
                    devices.set_duty(level, dt=dt)
                    _frame(src)  # the loop runs at frame pace while the light fades
                for _ in range(2):  # let the camera's pipeline catch up with the new light
                    _frame(src)
                values = [measure(_frame(src).image).brightness for _ in range(max(1, args.frames))]
                row = {"duty": round(devices.duty, 3), "brightness": round(sum(values) / len(values), 1)}
                rows.append(row)
                if args.json:
                    print_json(row)
                else:
                    print(
                        f"duty {row['duty']:5.3f}  brightness {row['brightness']:6.1f}  "
                        + "#" * int(row["brightness"] / 4)
                    )
            flicker = _flicker(src, devices, light.max_duty / 2, dt, args) if args.flicker_frames > 0 else None
            src.set_controls({"AeEnable": True})
    finally:
        devices.close()
    return _judge(rows, light, bool(args.json), flicker)


def _flicker(
    src: FrameSource, devices: LightDevices, level: float, dt: float, args: argparse.Namespace
) -> dict[str, Any]:
    """Hold ``level`` at the fixed exposure and measure frame-to-frame variation and banding (printed as text;
    in JSON it goes into the verdict line)."""
    from terminal.light.flicker import LIMIT, hold_and_measure, verdict

    while abs(devices.duty - level) > 1e-6:
        devices.set_duty(level, dt=dt)
        _frame(src)
    fig = hold_and_measure(lambda: _frame(src), args.flicker_frames)
    row = {
        "flicker_duty": round(devices.duty, 3),
        "driver": devices.driver,
        "pwm_hz": devices.pwm_hz,
        "frame_variation": round(fig["frame_variation"], 5),
        "banding": round(fig["banding"], 5),
        "flicker": verdict(fig),
    }
    if getattr(src, "pwm", None) is not None:  # the simulated scene models its own PWM (sim:...?pwm=software)
        row.update(driver=f"sim {src.pwm}", pwm_hz=getattr(src, "pwm_hz", None))  # type: ignore[attr-defined]
    if not args.json:
        print(
            f"flicker at duty {row['flicker_duty']:.3f} ({row['driver']}, {row['pwm_hz']} Hz, "
            f"{args.flicker_frames} frames): frame-to-frame {100 * fig['frame_variation']:.2f}%, "
            f"banding {100 * fig['banding']:.2f}% -> {row['flicker']} (goal < {100 * LIMIT:.0f}%)"
        )
    if row["flicker"] != "ok":
        hint = " (software PWM: set light.driver = 'sysfs_pwm')" if row["driver"] == "gpiozero" else ""
        print(f"warning: the ring light flickers on camera{hint}", file=sys.stderr)
    return row


def _frame(src: FrameSource) -> Any:
    frame = src.read()
    if frame is None:
        raise SourceError("light test: the source ended before the test did (use a camera, sim:IMAGE or a loop)")
    return frame


def _judge(
    rows: list[dict[str, float]], light: LightConfig, as_json: bool, flicker: dict[str, Any] | None = None
) -> int:
    # Same criterion as the controller's LIGHT_FAULT: linear light added per unit duty, relative to the target.
    lo, hi = to_linear(rows[0]["brightness"]), to_linear(rows[-1]["brightness"])
    t_lin = to_linear((light.target_low + light.target_high) / 2)
    response = (hi - lo) / (max(rows[-1]["duty"] - rows[0]["duty"], 1e-9) * t_lin)
    clipped = rows[-1]["brightness"] >= 250
    verdict: dict[str, Any] = {"lamp": "ok", "response": round(response, 3)}
    if clipped:
        verdict["lamp"] = "unknown"
    elif response < light.fault_min_response:
        verdict["lamp"] = "dead"
    if flicker is not None:
        verdict["flicker"] = flicker
    if as_json:
        print_json(verdict)
    else:
        print(
            f"lamp: {verdict['lamp']} (full duty adds {100 * response:.0f}% of the target light; "
            f"dead below {100 * light.fault_min_response:.0f}%)"
        )
    if verdict["lamp"] == "dead":
        raise HardwareError(
            f"ring light gives no light: full duty adds {100 * response:.1f}% of the target light "
            "(lamp dead, unplugged, or MOSFET/wiring fault)"
        )
    if clipped:
        print("warning: the scene saturates at full duty; test again with less ambient light", file=sys.stderr)
    return 0


def _summary(states: list[LightState]) -> dict[str, Any]:
    """The summary line: first frame from which the face stays in band, final values and faults."""
    converged_at: int | None = None
    for i in range(len(states) - 1, -1, -1):
        if not states[i].in_band:
            break
        converged_at = i
    last = states[-1]
    return {
        "converged_at_frame": converged_at,
        "final_brightness": round(last.brightness, 1),
        "target": [last.target[0], last.target[1]],
        "final_duty": round(last.duty, 4),
        "faults": list(last.faults),
    }


def run_simulate(args: argparse.Namespace) -> int:
    """Run the closed loop on SimSource(IMAGE) with gpiozero mock pins; per-frame lines, then a summary."""
    cfg = config_from_args(args)
    if args.ambient < 0:
        raise SourceError(f"--ambient must be >= 0 (got {args.ambient})")
    devices = LightDevices.from_config(cfg.light, mock_factory())
    finder, close_finder = (None, lambda: None)
    if args.face != "centre":
        from terminal.cli.facefinder import gate_face_finder

        finder, close_finder = gate_face_finder(cfg)
        if finder is None and args.face == "gate":
            close_finder()
            devices.close()
            raise SourceError("--face gate: the quality gate cannot load (see --log-level info)")
    states: list[LightState] = []
    try:
        extra: dict[str, Any] = {}
        if finder is not None and Path(args.image).suffix.lower() in IMAGE_SUFFIXES:
            # Centre the simulated ring light's falloff on the face as the gate sees it in the recorded light.
            extra["face_box"] = finder(read_image_rgb(Path(args.image)))
        src = open_source(
            f"sim:{args.image}",
            cfg.camera,
            ambient=args.ambient,
            devices=devices,
            dead_lamp=args.dead_lamp,
            seed=args.seed,
            **extra,
        )
        ctl = LightController(cfg.light, devices, src, flicker_hz=cfg.camera.flicker_hz, fps=cfg.camera.fps)
        with src:
            for _ in range(args.frames):
                frame = src.read()
                if frame is None:
                    break
                box = finder(frame.image) if finder else None
                st = ctl.update(frame.image, box, metadata=frame.metadata)
                states.append(st)
                if args.json:
                    print_json({"frame": frame.index, **st.to_dict(), "face": box is not None})
                else:
                    print(
                        f"frame {frame.index:3d}  duty {st.duty:5.3f}  exposure {st.exposure_us:6d} us  "
                        f"gain {st.gain:5.2f}  brightness {st.brightness:6.1f}  "
                        f"{'in band' if st.in_band else '       '}  {' '.join(st.faults)}"
                    )
        ctl.off()
    finally:
        close_finder()
        devices.close()
    if not states:
        raise SourceError(f"{args.image}: no frames")
    summary = _summary(states)
    if args.json:
        print_json(summary)
    else:
        print(
            f"converged at frame {summary['converged_at_frame']}, brightness {summary['final_brightness']} "
            f"(target {summary['target']}), duty {summary['final_duty']}, faults {summary['faults'] or 'none'}"
        )
    return 0
