"""Benchmark: the MediaPipe landmarker alone vs the whole quality gate, per 640x480 frame.

Run: .venv/bin/python bench/bench_gate.py [--frames N] [--rounds R]
Prints a table and one JSON line. Figures are recorded in docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.analysis.detector import FaceDetector
from terminal.analysis.gate import QualityGate
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation
from terminal.camera.recording import list_images, read_image_rgb
from terminal.config import Config
from tests.support.shared import shared_root


def frames_640x480(n: int) -> list[np.ndarray]:
    """Real webcam-like frames (pyfeat_single_face, 640x360) letterboxed to 640x480."""
    folder = shared_root() / "data" / "videos" / "pyfeat_single_face" / "frames"
    out = []
    for p in list_images(folder)[:n]:
        img = read_image_rgb(p)
        pad = (480 - img.shape[0]) // 2
        out.append(cv2.copyMakeBorder(img, pad, 480 - img.shape[0] - pad, 0, 0, cv2.BORDER_REPLICATE))
    return out


class Replayed:
    """A landmarker stand-in that returns recorded observations: times our checks without MediaPipe."""

    def __init__(self, faces: list[list[FaceObservation]]) -> None:
        self.faces, self.i = faces, 0

    def detect(self, image: np.ndarray, timestamp_s: float | None = None) -> list[FaceObservation]:
        """The next recorded result."""
        out = self.faces[self.i % len(self.faces)]
        self.i += 1
        return out


def stats(ms: list[float]) -> dict[str, float]:
    """Median, p95 and frames per second of per-frame milliseconds."""
    med = statistics.median(ms)
    return {"median_ms": round(med, 3), "p95_ms": round(float(np.percentile(ms, 95)), 3), "fps": round(1000.0 / med, 1)}


def main() -> int:
    """Run the benchmark and print the table and JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=72)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    frames = frames_640x480(args.frames)
    cfg = Config()
    lm_ms: list[float] = []
    gate_ms: list[float] = []
    checks_ms: list[float] = []
    recorded: list[list[FaceObservation]] = []
    t = 0.0
    with FaceLandmarker(mode="video", max_faces=2) as lm, QualityGate.from_config(cfg, mode="video") as gate:
        for f in frames[:5]:  # warm up both graphs
            t += 1 / 30
            lm.detect(f, t)
            gate.analyze(f, t)
        for _ in range(args.rounds):  # alternate so that machine noise hits both alike
            for f in frames:
                t += 1 / 30
                t0 = time.perf_counter()
                faces = lm.detect(f, t)
                lm_ms.append((time.perf_counter() - t0) * 1000)
                recorded.append(faces)
                t0 = time.perf_counter()
                gate.analyze(f, t)
                gate_ms.append((time.perf_counter() - t0) * 1000)
    checks_gate = QualityGate(cfg.quality, Replayed(recorded))  # type: ignore[arg-type]
    t = 0.0
    for f in frames * args.rounds:
        t += 1 / 30
        t0 = time.perf_counter()
        checks_gate.analyze(f, t)
        checks_ms.append((time.perf_counter() - t0) * 1000)
    checks_gate.close()  # its lazily built BlazeFace detector (the tiled face count ran every 0.5 s of frame time)
    # The secondary looks, timed per call: they run at most once per second_look_interval_s (0.5 s = every
    # 15th frame at 30 fps), so their per-frame share is a fifteenth of this.
    tiled_ms: list[float] = []
    with FaceDetector() as det:
        for f in frames[:5]:
            det.detect_tiled(f)
        for f in frames:
            t0 = time.perf_counter()
            det.detect_tiled(f)
            tiled_ms.append((time.perf_counter() - t0) * 1000)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "frame": "640x480",
        "frames": len(lm_ms),
        "landmarker": stats(lm_ms),
        "gate": stats(gate_ms),
        "checks_only": stats(checks_ms),
        "tiled_count_per_call": stats(tiled_ms),
        "gate_over_landmarker": round(statistics.median(gate_ms) / statistics.median(lm_ms), 3),
        "checks_over_landmarker": round(statistics.median(checks_ms) / statistics.median(lm_ms), 3),
        "checks_mean_over_landmarker_mean": round(statistics.mean(checks_ms) / statistics.mean(lm_ms), 3),
        "tiled_call_over_landmarker": round(statistics.median(tiled_ms) / statistics.median(lm_ms), 3),
        "peak_rss_mb": round(rss_mb, 1),
    }
    print(f"{'what':<22}{'median ms':>11}{'p95 ms':>9}{'fps':>8}")
    for key in ("landmarker", "gate", "checks_only", "tiled_count_per_call"):
        s = result[key]
        print(f"{key:<22}{s['median_ms']:>11.2f}{s['p95_ms']:>9.2f}{s['fps']:>8.1f}")
    print(
        f"gate/landmarker {result['gate_over_landmarker']:.3f}   checks/landmarker "
        f"{result['checks_over_landmarker']:.3f} (means {result['checks_mean_over_landmarker_mean']:.3f})   "
        f"one tiled count/landmarker {result['tiled_call_over_landmarker']:.3f}   peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
