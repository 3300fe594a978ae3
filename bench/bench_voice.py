"""Voice figures: prompt → sound start latency, and the one-time rendering cost.

(1) ``VoicePlayer.say(code)`` (what the frame loop calls when the text changes) to ``aplay`` started, with the
    prompts cached, 40 prompt changes 0.4 s apart; (2) ``aplay`` started to the device open and the first
    samples queued (aplay prints "Playing WAVE" right before writing them), 40 runs; the sum is the delay from
    the text to the voice. ALSA's ``null`` PCM stands in for a sound card (this machine has none); on a Pi the
    device open of a real card adds a few ms. (3) rendering every prompt with espeak-ng (first start).

  .venv/bin/python bench/bench_voice.py [--device null]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from terminal.voice.player import VoicePlayer  # noqa: E402
from terminal.voice.prompts import PromptCache, codes  # noqa: E402
from terminal.voice.settings import VoiceConfig  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="null")
    ap.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = VoiceConfig(enabled=True, device=args.device, repeat_after_s=0)
        cache = PromptCache(cfg, Path(d))
        t0 = time.perf_counter()
        paths = cache.render_all()
        render_s = time.perf_counter() - t0
        player = VoicePlayer(cfg, cache)
        player.start()
        while not player.available and player.problem is None:
            time.sleep(0.05)
        if not player.available:
            raise SystemExit(f"no audio device: {player.problem}")
        seq = [c for c in codes() if not c.startswith("OOS")]
        for i in range(args.n):
            player.say(seq[i % len(seq)])
            time.sleep(0.4)
        player.stop()
        spawn = [lat * 1000 for _c, lat in player.latencies]
        opened = []
        for i in range(args.n):
            path = paths[i % len(paths)]
            t = time.perf_counter()
            p = subprocess.Popen(
                ["aplay", "-D", args.device, str(path)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
            )
            assert p.stderr is not None
            p.stderr.readline()  # "Playing WAVE ..." is printed right before the first samples are written
            opened.append((time.perf_counter() - t) * 1000)
            p.terminate()
            p.wait()
    print(
        f"rendered {len(paths)} prompts with espeak-ng in {render_s:.2f} s ({render_s / len(paths) * 1000:.0f} ms each)"
    )
    print(
        f"say() -> aplay started: n={len(spawn)} median {statistics.median(spawn):.1f} ms, "
        f"p95 {pct(spawn, 0.95):.1f} ms, max {max(spawn):.1f} ms"
    )
    print(
        f"aplay started -> playing: n={len(opened)} median {statistics.median(opened):.1f} ms, "
        f"p95 {pct(opened, 0.95):.1f} ms, max {max(opened):.1f} ms"
    )
    print(f"text -> voice (p95 + p95): {pct(spawn, 0.95) + pct(opened, 0.95):.1f} ms")


if __name__ == "__main__":
    main()
