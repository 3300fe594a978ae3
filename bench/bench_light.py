"""Benchmark of the brightness loop on the simulated scene (gpiozero MockFactory + MockPWMPin).

Over ambient levels from 2% to 100% of the recorded light (plus over-bright 4x) on shared images: frames to
converge into the band, overshoot, steady-state duty flicker, fraction of scenes ending in band where the band
is physically reachable and which faults are reported where it is not; dead-lamp scenes; per-frame cost.

    .venv/bin/python bench/bench_light.py [--frames 40] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

import terminal.config  # noqa: F401  (import order: config before light)
from terminal.camera.recording import read_image_rgb
from terminal.cli.facefinder import gate_face_finder
from terminal.config import load_config
from terminal.light.controller import LightController
from terminal.light.devices import LightDevices, mock_factory
from terminal.light.settings import LightConfig
from terminal.light.simscene import SimSource, default_face_box

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
AMBIENTS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 4.0]
STEP = 0.01  # one duty step (1%): steady-state changes above this count as flicker


def scenes(quick: bool) -> list[tuple[str, str, Path]]:
    """(kind, name, path): ok faces, clean portraits, and side-lit faces (UNEVEN_LIGHT expected)."""
    ok = sorted((SHARED / "quality" / "ok").iterdir())
    picks = (
        [p for p in ok if "cmu_faces" in p.name][:1]
        + [p for p in ok if "extyaleb" in p.name][:9:4]
        + [p for p in ok if "yalefaces" in p.name][:3:2]
    )
    portraits = sorted((SHARED / "conditions" / "single_face").iterdir())
    uneven = [p for p in sorted((SHARED / "quality" / "UNEVEN_LIGHT").iterdir()) if "A+110" in p.name][:2]
    out = [("ok", p.stem[:40], p) for p in picks + portraits] + [("uneven", p.stem[:40], p) for p in uneven]
    return out[:4] if quick else out


def reachable(
    img: np.ndarray, box: tuple[int, int, int, int], ambient: float, cfg: LightConfig, dead: bool = False
) -> bool:
    """Whether some duty/exposure/gain puts the face in band (noise-free sim at the two extremes)."""

    def face_luma(duty: float, exposure: int, gain: float) -> float:
        src = SimSource([img], ambient=ambient, duty=duty, face_box=box, full_well=1e9, read_noise=0.0)
        src.set_controls({"AeEnable": False, "ExposureTime": exposure, "AnalogueGain": gain})
        frame = src.read()
        assert frame is not None
        x0, y0, x1, y1 = box
        return float(cv2.cvtColor(frame.image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).mean())

    brightest = face_luma(0.0 if dead else cfg.max_duty, cfg.max_exposure_us, cfg.max_gain)
    darkest = face_luma(0.0, cfg.min_exposure_us, 1.0)
    return brightest >= cfg.target_low and darkest <= cfg.target_high


def run_scene(
    img: np.ndarray, box: tuple[int, int, int, int], ambient: float, cfg: LightConfig, frames: int, dead: bool = False
) -> dict[str, Any]:
    """One closed-loop run; returns its figures."""
    factory = mock_factory()
    dev = LightDevices.from_config(cfg, factory)
    src = SimSource([img], ambient=ambient, devices=dev, face_box=box, dead_lamp=dead, seed=11)
    ctl = LightController(cfg, dev, src)
    states, cost = [], []
    with src:
        for _ in range(frames):
            frame = src.read()
            assert frame is not None
            t0 = time.perf_counter()
            states.append(ctl.update(frame.image, box, metadata=frame.metadata))
            cost.append(time.perf_counter() - t0)
    ctl.off()
    dev.close()
    pin_states = [float(s.state) for s in factory.pin(cfg.ring_pin).states]
    lo, hi = cfg.target_low, cfg.target_high
    mid = (lo + hi) / 2
    converged_at = None
    for i in range(len(states) - 1, -1, -1):
        if not states[i].in_band:
            break
        converged_at = i
    direction = 1.0 if states[0].brightness < mid else -1.0
    first = next((i for i, s in enumerate(states) if s.in_band), None)
    after = states[first:] if first is not None else []
    overshoot = max([0.0] + [(s.brightness - mid) * direction for s in after])
    tail = [s.duty for s in states[-20:]]
    flicker = max(abs(b - a) for a, b in itertools.pairwise(tail))
    return {
        "start": round(states[0].brightness, 1),
        "final": round(states[-1].brightness, 1),
        "frames_to_converge": None if converged_at is None else converged_at + 1,
        "overshoot": round(overshoot, 1),
        "overshoot_past_band": round(max(0.0, overshoot - (hi - mid)), 1),
        "duty_flicker": round(flicker, 4),
        "final_duty": round(states[-1].duty, 3),
        "exposure_us": states[-1].exposure_us,
        "gain": states[-1].gain,
        "faults": states[-1].faults,
        "in_band": states[-1].in_band,
        "max_pin_duty": max(pin_states),
        "pin_off_at_end": pin_states[-1] == 0.0,
        "cost_us": [c * 1e6 for c in cost],
    }


def controller_cost(cfg: LightConfig, size: tuple[int, int], n: int = 300) -> dict[str, float]:
    """Median µs of LightController.update on a frame of ``size`` (w, h), with and without a face box."""
    img = cv2.resize(read_image_rgb(SHARED / "conditions" / "single_face" / "skimage_astronaut.jpg"), size)
    ctl = LightController(cfg, None)
    box = default_face_box(size[1], size[0])
    out = {}
    for name, b in (("face_box", box), ("centre_weighted", None)):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            ctl.update(img, b)
            ts.append(time.perf_counter() - t0)
        out[name] = statistics.median(ts) * 1e6
    return out


def main() -> int:
    """Run the benchmark, print a table and a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="4 scenes only")
    args = ap.parse_args()
    cfg = LightConfig(pin_factory="mock")
    finder, close = gate_face_finder(load_config(None))
    rows = []
    print(
        f"{'scene':42s} {'kind':6s} {'amb':>5s} {'reach':>5s} {'start':>6s} {'final':>6s} {'conv':>4s} "
        f"{'over':>5s} {'flick':>6s} {'duty':>5s} {'exp_us':>6s} {'gain':>5s} faults"
    )
    for kind, name, path in scenes(args.quick):
        img = read_image_rgb(path)
        h, w = img.shape[:2]
        box = (finder(img) if finder else None) or default_face_box(h, w)
        for amb in AMBIENTS:
            r = run_scene(img, box, amb, cfg, args.frames)
            r.update(
                scene=name,
                kind=kind,
                ambient=amb,
                reachable=reachable(img, box, amb, cfg),
                box_from="gate" if finder else "centre",
            )
            rows.append(r)
            print(
                f"{name:42s} {kind:6s} {amb:5.2f} {r['reachable']!s:>5s} {r['start']:6.1f} {r['final']:6.1f} "
                f"{r['frames_to_converge']!s:>4s} {r['overshoot']:5.1f} {r['duty_flicker']:6.3f} "
                f"{r['final_duty']:5.2f} {r['exposure_us']:6d} {r['gain']:5.2f} {','.join(r['faults'])}"
            )
        for amb in (0.02, 0.1):
            r = run_scene(img, box, amb, cfg, args.frames, dead=True)
            r.update(scene=name, kind="dead", ambient=amb, reachable=reachable(img, box, amb, cfg, dead=True))
            rows.append(r)
        for amb, dead in ((0.001, True), (300.0, False)):  # physically unreachable: night with a dead lamp, sun
            r = run_scene(img, box, amb, cfg, args.frames, dead=dead)
            r.update(scene=name, kind="extreme", ambient=amb, reachable=reachable(img, box, amb, cfg, dead=dead))
            rows.append(r)
    close()

    live = [r for r in rows if r["kind"] in ("ok", "uneven")]
    ok_reach = [r for r in live if r["kind"] == "ok" and r["reachable"]]
    unreach = [r for r in rows if r["reachable"] is False]
    uneven = [r for r in live if r["kind"] == "uneven"]
    dead = [r for r in rows if r["kind"] == "dead"]
    conv = [r["frames_to_converge"] for r in ok_reach if r["frames_to_converge"] is not None]
    costs = [c for r in live for c in r["cost_us"][1:]]
    budget_us = 1e6 / 30
    sizes = {f"{w}x{h}": controller_cost(cfg, (w, h)) for w, h in ((640, 480), (1280, 720), (1920, 1080))}
    summary = {
        "scenes": len({r["scene"] for r in live}),
        "runs": len(live),
        "frames_per_run": args.frames,
        "ambients": AMBIENTS,
        "reachable_ok_runs": len(ok_reach),
        "ended_in_band_fraction": round(sum(r["in_band"] for r in ok_reach) / max(1, len(ok_reach)), 3),
        "frames_to_converge": {
            "median": statistics.median(conv) if conv else None,
            "max": max(conv, default=None),
            "p90": float(np.percentile(conv, 90)) if conv else None,
            "within_8": round(sum(c <= 8 for c in conv) / max(1, len(ok_reach)), 3),
        },
        "overshoot_luma": {
            "max": max((r["overshoot"] for r in ok_reach), default=0.0),
            "max_past_band": max((r["overshoot_past_band"] for r in ok_reach), default=0.0),
        },
        "steady_duty_flicker": {
            "max": max(r["duty_flicker"] for r in live),
            "step": STEP,
            "runs_above_one_step": sum(r["duty_flicker"] > STEP for r in live),
        },
        "unreachable_runs": len(unreach),
        "unreachable_with_fault": sum(bool(r["faults"]) for r in unreach),
        "unreachable_faults": sorted({f for r in unreach for f in r["faults"]}),
        "dead_lamp_in_band": sum(r["in_band"] for r in rows if r["kind"] == "dead"),
        "false_UNEVEN_LIGHT_on_ok": sum("UNEVEN_LIGHT" in r["faults"] for r in ok_reach),
        "faults_on_ok_reachable": sum(bool(r["faults"]) for r in ok_reach),
        "uneven_runs": len(uneven),
        "uneven_with_UNEVEN_LIGHT": sum("UNEVEN_LIGHT" in r["faults"] for r in uneven),
        "uneven_in_band": sum(r["in_band"] for r in uneven),
        "dead_lamp_runs": len(dead),
        "dead_lamp_with_LIGHT_FAULT": sum("LIGHT_FAULT" in r["faults"] for r in dead),
        "false_LIGHT_FAULT": sum("LIGHT_FAULT" in r["faults"] for r in live),
        "max_pin_duty": max(r["max_pin_duty"] for r in rows),
        "max_duty": cfg.max_duty,
        "light_off_at_end": all(r["pin_off_at_end"] for r in rows),
        "controller_us_sim_frames": {
            "median": round(statistics.median(costs), 1),
            "p99": round(float(np.percentile(costs, 99)), 1),
        },
        "controller_us_by_size": {k: {n: round(v, 1) for n, v in d.items()} for k, d in sizes.items()},
        "frame_budget_us_30fps": round(budget_us),
        "cost_ratio_640x480_vs_budget": round(sizes["640x480"]["face_box"] / budget_us, 5),
    }
    print()
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
