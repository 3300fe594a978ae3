"""Session figures: time to decision (frame time), photo attacks, same/other person; plus per-frame cost.

Run: .venv/bin/python bench/bench_session.py   (prints a table, then one JSON line)
Clips are built from ../shared images like the tests do (tests/session/clips.py): a Yale subject's open-eyed
shot with the closed-eyed shot for 4 frames (a blink), swaying with sensor noise; the same still alone is the
photo attack; the dark start re-lights the blink clip through the simulated scene with the ring light.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from terminal.analysis.gate import QualityGate
from terminal.camera.frame import Frame
from terminal.config.loader import config_from_dict
from terminal.errors import ConfigError
from terminal.light.controller import LightController
from terminal.light.devices import LightDevices, mock_factory
from terminal.light.simscene import SimSource
from terminal.matching.enroll import enroll_images
from terminal.matching.factory import build_matcher
from terminal.matching.probe import make_finder
from terminal.session import SessionRequest, VerificationSession, run_session
from tests.session.clips import blink_clip, photo_attack, video_frames, yale
from tests.support.shared import data

SUBJECTS = range(1, 11)
SKIP = ("OCCLUDED_GLASSES",)  # greyscale Yale: see tests/session/conftest.py


def main() -> None:
    """Run every scenario once and print the figures."""
    cfg = config_from_dict({})
    try:
        matcher = build_matcher(cfg)
        threshold_src = "shipped calibration"
    except ConfigError:
        matcher = build_matcher(cfg, threshold=0.45)
        threshold_src = "0.45 (no shipped calibration found)"
    finder = make_finder(cfg, use_gate=False)
    refs = {s: enroll_images([data(f"yalefaces/subject{s:02d}/{c}.jpg") for c in ("happy", "centerlight", "surprised")],
                             matcher, finder)[0] for s in SUBJECTS}
    gate = QualityGate.from_config(cfg, mode="video", skip=SKIP)
    wall = {"frames": 0, "session_s": 0.0}

    def session(ref: Any, rid: str, **kw: Any) -> VerificationSession:
        return VerificationSession.from_config(cfg, SessionRequest(rid, ref), gate, matcher, **kw)

    def feed(s: VerificationSession, frames: list[Frame]) -> dict[str, Any]:
        t0 = time.perf_counter()
        for f in frames:
            wall["frames"] += 1
            if s.feed(f):
                break
        else:
            s.end_of_source()
        wall["session_s"] += time.perf_counter() - t0
        assert s.result is not None
        return s.result

    coop, same, other, attacks, dark, conv = [], 0, 0, 0, [], []
    for s in SUBJECTS:
        live = blink_clip(yale(s, "normal"), yale(s, "sleepy"), 4.0, blinks=(0.8, 2.6), seed=s)
        r = feed(session(refs[s], f"same-{s}"), live)
        same += r["decision"] == "match"
        if r["timings"]["decision_after_face_s"] is not None and r["decision"] in ("match", "no_match"):
            coop.append(r["timings"]["decision_after_face_s"])
        o = (s % 10) + 1
        r = feed(session(refs[o], f"other-{s}"), live)
        other += r["decision"] == "no_match"
        r = feed(session(refs[s], f"photo-{s}"), photo_attack(yale(s, "normal"), 7.0, seed=s))
        attacks += r["reason_code"] == "LIVENESS_FAILED"
        with LightDevices.from_config(cfg.light, pin_factory=mock_factory()) as dev:
            clip = blink_clip(yale(s, "normal"), yale(s, "sleepy"), 8.0, blinks=(0.8, 2.6, 4.4, 6.2), seed=s)
            src = SimSource([f.image for f in clip], ambient=0.03, devices=dev, fps=24.0, max_frames=len(clip))
            light = LightController(cfg.light, dev, camera=src, fps=24.0)
            t0 = time.perf_counter()
            r = run_session(src, session(refs[s], f"dark-{s}", light=light, devices=dev))
            wall["session_s"] += time.perf_counter() - t0
            wall["frames"] += r["frames"]
        if r["decision"] in ("match", "no_match") and r["timings"]["decision_s"] is not None:
            dark.append(r["timings"]["decision_s"])  # from the first (dark) frame, not from the first face
        if r["timings"]["light_converged_s"] is not None:
            conv.append(r["timings"]["light_converged_s"])
    selfie = []
    for start in (0, 30, 60, 90):
        r = feed(session(enroll_selfie(matcher, finder), f"selfie-{start}"),
                 video_frames("blink_selfie", start, start + 100, fps=23.9))
        if r["decision"] in ("match", "no_match"):
            selfie.append(r["timings"]["decision_after_face_s"])
    # Per-frame cost: the gate alone on the same kind of frames, then the session's overhead on top.
    frames = blink_clip(yale(4, "normal"), yale(4, "sleepy"), 4.0, blinks=())
    gate2 = QualityGate.from_config(cfg, mode="video", skip=SKIP)
    t0 = time.perf_counter()
    for f in frames:
        gate2.analyze(f.image, f.timestamp)
    gate_ms = 1000 * (time.perf_counter() - t0) / len(frames)
    session_ms = 1000 * wall["session_s"] / max(wall["frames"], 1)
    n = len(SUBJECTS)
    fig = {
        "threshold": threshold_src,
        "coop_median_s": round(statistics.median(coop), 3) if coop else None, "coop_n": len(coop),
        "coop_max_s": round(max(coop), 3) if coop else None,
        "selfie_decision_after_face_s": [round(x, 3) for x in selfie],
        "dark_median_s": round(statistics.median(dark), 3) if dark else None, "dark_n": len(dark),
        "dark_light_converged_median_s": round(statistics.median(conv), 3) if conv else None,
        "photo_attacks_failed": f"{attacks}/{n}", "same_person_match": f"{same}/{n}",
        "other_person_no_match": f"{other}/{n}",
        "gate_ms_per_frame": round(gate_ms, 2), "session_ms_per_frame": round(session_ms, 2),
        "session_to_gate_ratio": round(session_ms / gate_ms, 2),
    }
    print(f"{'figure':40s} value")
    for k, v in fig.items():
        print(f"{k:40s} {v}")
    print(json.dumps(fig))


def enroll_selfie(matcher: Any, finder: Any) -> Any:
    """Reference of the blink_selfie man from three later frames of the clip (never fed to the sessions)."""
    import numpy as np

    embs = []
    for f in video_frames("blink_selfie", 205, 235, fps=23.9)[::10]:
        found = finder.find(f.image)
        if found.face is not None:
            embs.append(matcher.embed_face(f.image, found.face))
    return matcher.template_from(np.stack(embs))


if __name__ == "__main__":
    main()
