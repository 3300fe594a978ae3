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


def chance_figures(k: int) -> dict[str, dict[str, float]]:
    """How often a fixed recording answers the default random challenge (the challenge layer alone: no gate, no PAD).

    Each recording is looped (as a screen replay would show it) and its per-frame landmarks are fed to a fresh
    ``LivenessCheck`` with the default plan and prompt delay from the CSPRNG, starting at a uniformly random
    point of the loop (an attacker cannot know when the prompt comes), ``k`` times per recording.
    """
    import secrets

    from terminal.session.liveness import FAILED, PASSED, LivenessCheck
    from terminal.session.settings import SessionConfig

    lm = FaceLandmarker(mode="video")
    t_next = 0.0

    def observe(frames: list) -> tuple[list, float]:
        nonlocal t_next
        obs = []
        for f in frames:
            faces = lm.detect(f.image, timestamp_s=t_next + f.timestamp)
            obs.append(faces[0] if faces else None)
        dt = frames[1].timestamp - frames[0].timestamp
        t_next += len(frames) * dt + 1.0
        return obs, dt

    selfie = [f for f in selfie_windows((0,), 334)[0][1]]
    recordings = {f"loop of live clip {n}": live_clip(n) for n in LIVE_CLIPS}
    recordings["blink_selfie frames 0-99 looped"] = selfie[:100]
    # One real blink (frames 11-13) looped every 12 frames (0.5 s): a spam-blinking recording.
    recordings["spam: one real blink looped every 0.5 s"] = selfie[6:18]
    recordings["spam: one real blink looped every 0.75 s"] = selfie[4:22]
    cfg = SessionConfig()
    rng = secrets.SystemRandom()
    out: dict[str, dict[str, float]] = {}
    for name, frames in recordings.items():
        obs, dt = observe(frames)
        passed = {1: [0, 0], 2: [0, 0]}
        for _ in range(k):
            check, start = LivenessCheck(cfg, 0.0), rng.randrange(len(obs))
            status, i = "running", 0
            while status not in (PASSED, FAILED) and i < round(30 / dt):
                status = check.update(obs[(start + i) % len(obs)], i * dt)
                i += 1
            n = len(check.plan)
            passed[n][0] += status == PASSED
            passed[n][1] += 1
        total = passed[1][0] + passed[2][0]
        out[name] = {
            "answered": round(total / k, 3),
            "answered_1_blink_plan": round(passed[1][0] / max(passed[1][1], 1), 3),
            "answered_2_blink_plan": round(passed[2][0] / max(passed[2][1], 1), 3),
            "draws": k,
        }
        print(f"chance {name}: {out[name]}", flush=True)
    lm.close()
    return out


def swap_figures(delay: float, backs: tuple[float, ...] = (0.1, 0.3, 0.5)) -> list[dict]:
    """The accomplice swap (tests/pad/attacks.py accomplice_swap) with the attacker knowing the plan (one blink,
    prompted after ``delay``) and the tracker's jump limit lifted (a perfectly aligned swap); PAD off, so that
    only the binding of the challenge to the capture (identity, capture timing) stands against it."""
    from terminal.analysis.gate import QualityGate
    from terminal.matching.enroll import enroll_images
    from terminal.matching.factory import build_matcher
    from terminal.matching.probe import make_finder
    from terminal.session import SessionRequest, VerificationSession
    from tests.pad.attacks import accomplice_swap

    session = {"plan": ["blink"], "prompt_delay_s": [delay, delay], "track_jump": 5.0}
    cfg = config_from_dict({"session": session, "pad": {"enabled": False}})
    matcher, finder = build_matcher(cfg), make_finder(cfg, use_gate=False, strict=False)
    rows = []
    for back in backs:
        for ident in identities():
            ref = enroll_images([ident.ref], matcher, finder)[0]
            gate = QualityGate.from_config(cfg, mode="video")
            s = VerificationSession.from_config(cfg, SessionRequest("swap", ref), gate, matcher)
            for frame in accomplice_swap(ident, back):
                if s.feed(frame):
                    break
            else:
                s.end_of_source()
            gate.close()
            assert s.result is not None
            rec = s.result
            live = rec["liveness"]
            rows.append(
                {
                    "back_s": back,
                    "victim": ident.name,
                    "decision": rec["decision"],
                    "reason_code": rec["reason_code"],
                    "liveness_reason": live.get("reason"),
                    "identity_cosine": (live.get("identity") or {}).get("cosine"),
                }
            )
            print(f"swap {json.dumps(rows[-1])}", flush=True)
    finder.close()
    return rows


def main() -> None:
    """Build, evaluate, print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/pad_attack_set"))
    ap.add_argument("--ids", type=int, default=5, help="identities per attack kind (at least 4)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--parallax", action="store_true", help="only the head-turn parallax figures")
    ap.add_argument("--chance", type=int, default=0, help="only: K draws of fixed recordings vs the random plan")
    ap.add_argument(
        "--live-plan", default="blink", help="fixed plan of the live recordings (they cannot answer a random one)"
    )
    ap.add_argument("--live-delay", type=float, default=0.0, help="fixed prompt delay of the live recordings (s)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the attacks' plan draws (default: CSPRNG)")
    ap.add_argument("--attack-plan", default=None, help="fixed plan of the attacks (the attacker-knows-the-plan case)")
    ap.add_argument("--attack-delay", type=float, default=None, help="fixed prompt delay of the attacks (s)")
    ap.add_argument("--kinds", default="", help="only these attack kinds, comma-separated (default: all)")
    ap.add_argument("--swap", type=float, default=None, help="only: the accomplice swap, prompt delay S (s)")
    args = ap.parse_args()
    if args.swap is not None:
        rows = swap_figures(args.swap)
        print(json.dumps({"accepted": sum(r["decision"] == "match" for r in rows), "n": len(rows)}))
        return
    if args.chance:
        print(json.dumps(chance_figures(args.chance)))
        return
    from terminal.cli.evaluate_pad import _plan_text, split_configs

    cfg, live_cfg = split_configs(config_from_dict({}), args.live_plan, args.live_delay, args.seed)
    if args.attack_plan or args.attack_delay is not None:  # the attacker-knows-the-plan case
        cfg = split_configs(cfg, args.attack_plan, args.attack_delay, None)[1]
    print(f"plans: attacks {_plan_text(cfg)}; live {_plan_text(live_cfg)}", flush=True)
    t0 = time.time()
    build(args.dir, args.ids)
    if args.parallax:
        parallax_figures(args.dir)
        return
    built = time.time() - t0
    root = args.dir
    if args.kinds:
        root = Path(f"/tmp/pad_subset_{'_'.join(sorted(args.kinds.split(',')))}")
        (root / "attack").mkdir(parents=True, exist_ok=True)
        for name in ("live", "ref"):
            if not (root / name).exists():
                (root / name).symlink_to(args.dir / name)
        for kind in args.kinds.split(","):
            if not (root / "attack" / kind).exists():
                (root / "attack" / kind).symlink_to(args.dir / "attack" / kind)
    outcomes = evaluate_dir(cfg, root, [], live_cfg=live_cfg)
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
