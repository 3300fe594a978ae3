"""Replay throughput: frames/s of the replay source on shared clips (JPEG folder, video, PNG recording)."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from terminal.camera.recording import RecordingWriter  # noqa: E402
from terminal.camera.replay import ReplaySource  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "videos"


def rate(src: ReplaySource) -> tuple[int, float]:
    """Frames and frames/s reading ``src`` to the end."""
    t0 = time.perf_counter()
    n = sum(1 for _ in src)
    return n, n / (time.perf_counter() - t0)


def main() -> None:
    """Print a table and a JSON line of replay rates."""
    rows = []
    for clip in ("pyfeat_single_face", "blink_selfie"):
        n, fps = rate(ReplaySource(SHARED / clip / "frames"))
        rows.append({"input": f"{clip}/frames (JPEG folder)", "frames": n, "fps": round(fps, 1)})
        n, fps = rate(ReplaySource(SHARED / clip / "original.mp4"))
        rows.append({"input": f"{clip}/original.mp4 (video)", "frames": n, "fps": round(fps, 1)})
    with tempfile.TemporaryDirectory() as tmp:
        with RecordingWriter(Path(tmp) / "rec") as rec:
            for f in ReplaySource(SHARED / "pyfeat_single_face" / "frames"):
                rec.write(f)
        n, fps = rate(ReplaySource(Path(tmp) / "rec"))
        rows.append({"input": "pyfeat_single_face recording (PNG)", "frames": n, "fps": round(fps, 1)})
    for r in rows:
        print(
            f"{r['input']:45s} {r['frames']:5d} frames {r['fps']:8.1f} frames/s  ({r['fps'] / 30:.1f}x a 30 fps camera)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"replay": rows, "peak_rss_mb": round(peak, 1)}))


if __name__ == "__main__":
    main()
