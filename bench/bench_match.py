"""Benchmark: alignment + embedding per face against the interpreter's bare invoke() on the same input.

Run: .venv/bin/python bench/bench_match.py [--faces N] [--rounds R] [--threads T]
Prints a table and one JSON line. Figures are recorded in docs/matching.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.analysis.landmarker import FaceLandmarker
from terminal.camera.recording import list_images, read_image_rgb
from terminal.config import load_config
from terminal.matching.align import align_face
from terminal.matching.embedder import TFLiteEmbedder, load_embedder
from tests.support.shared import shared_root


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def faces(lm: FaceLandmarker, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image, landmarks) of the first ``n`` faces found in webcam frames and match_clean colour photos."""
    root = shared_root() / "data"
    paths = list_images(root / "videos" / "pyfeat_single_face" / "frames")[::4]
    paths += sorted((root / "match_clean").glob("face_recognition_examples-*/*.jp*g"))
    out = []
    for p in paths:
        img = read_image_rgb(p)
        found = lm.detect(img)
        if found:
            out.append((img, found[0].landmarks))
        if len(out) >= n:
            break
    return out


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return float(np.percentile(np.array(values) * 1e3, q))


def main() -> int:
    """Time both paths interleaved (the machine is shared: interleaving keeps their conditions equal)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--faces", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=None, help="interpreter threads (default: [matching] threads)")
    args = ap.parse_args()
    base_rss = rss_mb()
    overrides = {"matching.threads": args.threads} if args.threads else {}
    cfg = load_config(None, overrides=overrides)
    lm = FaceLandmarker(mode="image", max_faces=3)
    emb = load_embedder(cfg)
    assert isinstance(emb, TFLiteEmbedder)
    data = faces(lm, args.faces)
    t_detect = []
    for img, _ in data[:10]:
        t0 = time.perf_counter()
        lm.detect(img)
        t_detect.append(time.perf_counter() - t0)
    tensors = [emb.preprocess(align_face(img, pts, emb.input_size)) for img, pts in data]
    full: list[float] = []
    bare: list[float] = []
    full_cpu: list[float] = []
    bare_cpu: list[float] = []
    parts = {"align": [], "preprocess": [], "invoke+read": [], "normalise": []}  # type: dict[str, list[float]]
    for _ in range(3):  # warm-up
        emb.embed(align_face(data[0][0], data[0][1], emb.input_size))
    for _ in range(args.rounds):
        for (img, pts), x in zip(data, tensors, strict=True):
            # Wall time is what a member waits; process CPU time (all threads) is less disturbed by other
            # processes on a shared machine, so both are reported.
            c0, t0 = time.process_time(), time.perf_counter()
            emb.embed(align_face(img, pts, emb.input_size))
            t1, c1 = time.perf_counter(), time.process_time()
            emb.interpreter.set_tensor(emb._in_index, x)
            c2, t2 = time.process_time(), time.perf_counter()
            emb.interpreter.invoke()
            t3, c3 = time.perf_counter(), time.process_time()
            full.append(t1 - t0)
            bare.append(t3 - t2)
            full_cpu.append(c1 - c0)
            bare_cpu.append(c3 - c2)
    # One extra pass split into stages, to show where the overhead goes.
    for img, pts in data:
        t0 = time.perf_counter()
        crop = align_face(img, pts, emb.input_size)
        t1 = time.perf_counter()
        x = emb.preprocess(crop)
        t2 = time.perf_counter()
        raw = emb.invoke(x)
        t3 = time.perf_counter()
        raw / np.linalg.norm(raw)
        t4 = time.perf_counter()
        for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[k].append(v)
    peak = rss_mb()
    res = {
        "faces": len(data),
        "rounds": args.rounds,
        "runtime": emb.runtime,
        "threads": cfg.matching.threads,
        "full_ms": {"median": round(pct(full, 50), 3), "p95": round(pct(full, 95), 3)},
        "bare_invoke_ms": {"median": round(pct(bare, 50), 3), "p95": round(pct(bare, 95), 3)},
        "overhead_ratio": {
            "median": round(pct(full, 50) / pct(bare, 50), 4),
            "p95": round(pct(full, 95) / pct(bare, 95), 4),
        },
        "cpu_ms": {
            "full_median": round(pct(full_cpu, 50), 3),
            "bare_median": round(pct(bare_cpu, 50), 3),
            "ratio_median": round(pct(full_cpu, 50) / max(pct(bare_cpu, 50), 1e-9), 4),
        },
        "stages_median_ms": {k: round(pct(v, 50), 3) for k, v in parts.items()},
        "landmarker_detect_ms_median": round(pct(t_detect, 50), 2),
        "rss_mb": {"before_models": round(base_rss, 1), "peak_with_both_models": round(peak, 1)},
    }
    print(f"faces {res['faces']} x rounds {args.rounds}, {emb.runtime}, {cfg.matching.threads} thread(s)")
    print(f"{'path':<28}{'median ms':>10}{'p95 ms':>10}")
    print(f"{'align + embed (ours)':<28}{res['full_ms']['median']:>10.3f}{res['full_ms']['p95']:>10.3f}")
    print(f"{'bare invoke()':<28}{res['bare_invoke_ms']['median']:>10.3f}{res['bare_invoke_ms']['p95']:>10.3f}")
    print(f"{'ratio (ours / bare)':<28}{res['overhead_ratio']['median']:>10.4f}{res['overhead_ratio']['p95']:>10.4f}")
    print(
        f"CPU time (all threads) median: ours {res['cpu_ms']['full_median']} ms, bare {res['cpu_ms']['bare_median']} "
        f"ms, ratio {res['cpu_ms']['ratio_median']}"
    )
    print("stages (median ms): " + ", ".join(f"{k} {v}" for k, v in res["stages_median_ms"].items()))
    print(f"landmarker detect (median): {res['landmarker_detect_ms_median']} ms")
    print(f"peak RSS: {res['rss_mb']['peak_with_both_models']} MB (before models {res['rss_mb']['before_models']} MB)")
    print(json.dumps(res))
    lm.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
