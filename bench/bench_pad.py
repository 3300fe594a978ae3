"""Presentation-attack figures: APCER per attack kind, BPCER on real live clips, decision time, liveness cost.

Run: nice .venv/bin/python bench/bench_pad.py [--dir /tmp/pad_attack_set] [--ids N] [--json]
Builds the attack set of tests/pad/attacks.py from ../shared/data once (cached as JPEG recordings under
--dir; delete it to rebuild), links the real live clips and references into the layout `terminal evaluate pad`
reads, runs every item as a whole session, and measures in the same run the per-frame cost of the liveness
work (eyelid geometry, tracker, PAD, identity embeddings) against the landmarker's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2

from terminal.analysis.landmarker import FaceLandmarker
from terminal.camera.recording import RecordingWriter
from terminal.cli.evaluate_pad import evaluate_dir
from terminal.config.loader import config_from_dict
from terminal.pad.base import PadFusion
from terminal.pad.factory import load_pad_backend
from terminal.session.eyelids import EyelidDeformation
from terminal.session.tracker import FaceTrack
from tests.pad.attacks import ATTACKS, LIVE_CLIPS, identities, live_clip, selfie_ref_images, selfie_windows
from tests.support.shared import data


def build(root: Path, n_ids: int) -> None:
    """Write the evaluation layout under ``root`` (skips what exists)."""
    for sub in ("live", "ref", "attack"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in LIVE_CLIPS:
        link = root / "live" / name
        if not link.exists():
            link.symlink_to(data(f"live/{name}"))
        ref = root / "ref" / f"{name}.jpg"
        if not ref.exists():
            ref.symlink_to(data(f"live/{name}/ref.jpg"))
    sref = root / "ref" / "blink_selfie"
    if not sref.exists():
        sref.mkdir()
        for i, img in enumerate(selfie_ref_images()):
            cv2.imwrite(str(sref / f"{i}.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    for name, frames in selfie_windows():
        _write(root / "live" / f"blink_selfie__{name.rsplit('_', 1)[1]}", frames)
    for kind, make in ATTACKS.items():
        for k, ident in enumerate(identities()[:n_ids]):
            out = root / "attack" / kind / f"{ident.name}__{kind}"
            if not out.exists():
                _write(out, make(ident, seed=k))


def _write(path: Path, frames: list) -> None:
    if path.exists():
        return
    tmp = path.with_name(path.name + ".part")
    with RecordingWriter(tmp, source="bench_pad", image_format="jpg") as w:
        for f in frames:
            w.write(f)
    tmp.rename(path)


def cost_ratio(cfg: object) -> dict[str, float]:
    """Per-frame ms of the landmarker vs the liveness work on the same real live frames, in one run."""
    lm = FaceLandmarker(mode="video")
    backend = load_pad_backend(cfg)  # type: ignore[arg-type]
    t_lm = t_live = 0.0
    n = 0
    for name in LIVE_CLIPS:
        frames = live_clip(name)
        lids, track, pad = EyelidDeformation(0.25), FaceTrack(), PadFusion(backend, 0.5, 6, 3)
        for f in frames:
            t0 = time.perf_counter()
            faces = lm.detect(f.image, timestamp_s=f.timestamp)
            t1 = time.perf_counter()
            face = faces[0] if faces else None
            lids.update(face, f.timestamp)
            track.update(face, len(faces), f.timestamp)
            if face is not None:
                pad.offer(f.image, face)
            t_live += time.perf_counter() - t1
            t_lm += t1 - t0
            n += 1
    lm.close()
    return {
        "landmarker_ms": round(1000 * t_lm / n, 3),
        "liveness_ms": round(1000 * t_live / n, 3),
        "ratio": round(t_live / t_lm, 3),
        "frames": n,
    }


def parallax_figures(root: Path) -> None:
    """Homography residual of the largest-yaw-change pair per clip: real clips vs tilted prints (docs/liveness.md)."""
    from terminal.camera import open_source
    from terminal.session.liveness import parallax

    def run(frames: list) -> tuple[float, float]:
        lm = FaceLandmarker(mode="video")
        obs = [fs[0] for f in frames if (fs := lm.detect(f.image, timestamp_s=f.timestamp))]
        lm.close()
        i = min(range(len(obs)), key=lambda k: obs[k].yaw)
        j = max(range(len(obs)), key=lambda k: obs[k].yaw)
        return round(obs[j].yaw - obs[i].yaw, 1), round(parallax(obs[i].landmarks, obs[j].landmarks), 4)

    for name in LIVE_CLIPS:
        print("parallax live", name, run(live_clip(name)))
    for clip in sorted((root / "attack" / "print_tilted").iterdir()):
        print("parallax print_tilted", clip.name, run(list(open_source(f"replay:{clip}"))))


def main() -> None:
    """Build, evaluate, print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/pad_attack_set"))
    ap.add_argument("--ids", type=int, default=5, help="identities per attack kind (at least 4)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--parallax", action="store_true", help="only the head-turn parallax figures")
    args = ap.parse_args()
    cfg = config_from_dict({})
    t0 = time.time()
    build(args.dir, args.ids)
    if args.parallax:
        parallax_figures(args.dir)
        return
    built = time.time() - t0
    outcomes = evaluate_dir(cfg, args.dir, [])
    from terminal.pad.evaluate import summarise

    summary = summarise(outcomes)
    cost = cost_ratio(cfg)
    # The identity check embeds two frames once per session: amortise over the frames of a median session.
    summary.update({"cost": cost, "build_s": round(built, 1), "eval_s": round(time.time() - t0 - built, 1)})
    if args.json:
        print(json.dumps(summary))
        return
    print(f"{'kind':24s} {'n':>3s} {'accepted':>8s} {'APCER':>7s}   stopped by")
    for kind, a in summary["apcer"].items():
        why: dict[str, int] = {}
        for row in summary["items"]:
            if row["kind"] == kind:
                key = f"{row['decision']}/{row['reason_code']}"
                why[key] = why.get(key, 0) + 1
        print(f"{kind:24s} {a['n']:3d} {a['accepted']:8d} {a['apcer']:7.1%}   {why}")
    live = summary["live"]
    print(
        f"worst APCER {summary['worst_apcer']}; BPCER {summary['bpcer']} ({live}); "
        f"live decision median {summary['live_decision_median_s']} s"
    )
    times = [r["decision_s"] for r in summary["items"] if r["kind"] == "live" and r["decision"] == "match"]
    print(f"live decision times {sorted(times)} (median {statistics.median(times) if times else None})")
    print(f"cost {cost}")
    for row in summary["items"]:
        print(json.dumps(row))
    print(json.dumps({k: v for k, v in summary.items() if k != "items"}))


if __name__ == "__main__":
    main()
