"""Member-screen figures, measured in one run: the daemon's frame rate with and without the page shown in a
real headless Chromium, the preview fps in the page, the RSS the page server adds, and decision → on-screen.

The daemon (``TerminalDaemon``) runs in a child process on a looping walk-up clip (sessions back to back) and
prints its frame counter with ``time.monotonic()`` stamps (one clock for both processes). With the kiosk on,
the parent alternates windows with the page shown in Chromium and with Chromium on ``about:blank`` (no page:
no socket, no preview encoding), so both conditions share the same minutes of this noisy shared machine;
the ratio is mean(fps with page) / mean(fps without). Two pacings:
  camera   the clip replayed at its recorded 30 fps, as a camera delivers frames (what a member experiences)
  max      as fast as the frame loop takes frames (CPU-bound: the headroom left; Chromium shares the 2 cores)
RSS: the same daemon with ``[kiosk] enabled = false`` vs enabled with the page connected.
Latency: the snapshot's wall-clock stamp (frame loop, right after the session step in which the gate decided)
to the page's first animation frame + task after it changed the DOM (Date.now() in Chromium).

  .venv/bin/python bench/bench_kiosk.py [--windows 6] [--window-s 6]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def child(args: argparse.Namespace) -> None:
    """Run the daemon; print ``T <monotonic> <frames> <rss>`` every 0.25 s until stdin closes."""
    from terminal.camera.replay import ReplaySource
    from terminal.config import load_config
    from terminal.daemon.app import TerminalDaemon

    cfg = load_config(Path(args.phase))
    realtime = args.pace == "camera"
    daemon = TerminalDaemon(
        cfg, Path(args.phase), source_factory=lambda c: ReplaySource(args.clip, fps=30.0, realtime=realtime, loop=True)
    )

    def report() -> None:
        while getattr(daemon, "svc", None) is None or daemon.camera.frames == 0:  # services exist after start()
            time.sleep(0.05)
        print("READY", flush=True)
        while True:
            done = daemon.coordinator.sessions_done
            print(f"T {time.monotonic():.4f} {daemon.camera.frames} {rss_mb(os.getpid()):.1f} {done}", flush=True)
            time.sleep(0.25)

    def until_stdin_closes() -> None:
        sys.stdin.read()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=report, daemon=True).start()
    threading.Thread(target=until_stdin_closes, daemon=True).start()
    daemon.run()


def write_config(tmp: Path, ref: Path, kiosk: bool, port: int) -> Path:
    from tests.support.broker import free_port

    p = tmp / f"config-{'on' if kiosk else 'off'}.toml"
    p.write_text(f"""[terminal]\nid = "bench-kiosk"\nstate_dir = "{tmp / "state"}"\n[camera]\nbackend = "replay"
fps = 30.0\n[mqtt]\nbrokers = ["mqtt://127.0.0.1:{free_port()}"]\nbackoff_max_s = 5.0\n[light]\npin_factory = "mock"
[daemon]\nwalkup_reference = "{ref}"\nwalkup_cooldown_s = 0.5\nwalkup_check_s = 0.2
[kiosk]\nenabled = {str(kiosk).lower()}\nport = {port}\nresult_hold_s = 1.0\n""")
    return p


class Child:
    """The daemon process and its frame-counter samples."""

    def __init__(self, cfg: Path, clip: Path, pace: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--phase", str(cfg), "--clip", str(clip), "--pace", pace],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO,
        )
        self.samples: list[tuple[float, int, float, int]] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.ready.wait(180), "the daemon did not start"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("READY"):
                self.ready.set()
            elif line.startswith("T "):
                _, t, f, r, s = line.split()
                self.samples.append((float(t), int(f), float(r), int(s)))

    def fps(self, t0: float, t1: float) -> float:
        """Frames per second between two monotonic times (nearest samples)."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        (a, fa, _, _), (b, fb, _, _) = inside[0], inside[-1]
        return (fb - fa) / (b - a)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def run_pace(pace: str, tmp: Path, clip: Path, ref: Path, args: argparse.Namespace) -> dict:
    from tests.support.broker import free_port
    from tests.support.browser import chromium

    port = free_port()
    off = Child(write_config(tmp, ref, False, port), clip, pace)
    time.sleep(args.window_s)
    t = time.monotonic()
    time.sleep(args.window_s)
    rss_off, fps_off_alone = off.samples[-1][2], off.fps(t, time.monotonic())
    off.stop()
    on = Child(write_config(tmp, ref, True, port), clip, pace)
    url = f"http://127.0.0.1:{port}/"
    windows: dict[bool, list[float]] = {True: [], False: []}
    previews: list[float] = []
    with chromium(tmp / f"profile-{pace}") as driver:
        driver.get("about:blank")
        time.sleep(args.window_s)  # warm-up
        for i in range(args.windows):
            shown = i % 2 == 1
            driver.get(url if shown else "about:blank")
            time.sleep(1.0)  # settle: page load / teardown
            s0 = driver.execute_script("return window.kioskStats") if shown else None
            t0 = time.monotonic()
            time.sleep(args.window_s)
            t1 = time.monotonic()
            windows[shown].append(on.fps(t0, t1))
            if shown:
                s1 = driver.execute_script("return window.kioskStats")
                previews.append((s1["previews"] - s0["previews"]) / (t1 - t0))
                rss_on = on.samples[-1][2]
                lat = s1["latencies"]
        lat_all = lat
    sessions = on.samples[-1][3]
    on.stop()
    return {
        "fps_off_alone": fps_off_alone,
        "rss_off": rss_off,
        "rss_on": rss_on,
        "with": windows[True],
        "without": windows[False],
        "preview": previews,
        "lat": lat_all,
        "sessions": sessions,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=6, help="alternating windows (page hidden, shown, ...)")
    ap.add_argument("--window-s", type=float, default=6.0)
    ap.add_argument("--pace", choices=["camera", "max", "both"], default="both")
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--clip", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        child(args)
        return
    from terminal.cli.main import main as cli
    from tests.kiosk.daemon import live_clip_at, write_clip
    from tests.support.shared import data

    paces = ["camera", "max"] if args.pace == "both" else [args.pace]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # A real member's live clip (spliced photos are refused by PAD since issue 12), re-timed to 30 fps.
        clip = write_clip(live_clip_at("clm_franck", fps=30.0), tmp / "clip")
        ref = tmp / "ref.json"
        cli(["enroll", str(data("live/clm_franck/ref.jpg")), "--out", str(ref), "--skip", "UNSTEADY"])
        for pace in paces:
            r = run_pace(pace, tmp, clip, ref, args)
            w, wo = statistics.mean(r["with"]), statistics.mean(r["without"])
            print(
                f"[{pace}] daemon fps with the page {w:.1f} ({', '.join(f'{x:.1f}' for x in r['with'])}), "
                f"without {wo:.1f} ({', '.join(f'{x:.1f}' for x in r['without'])}): ratio {w / wo:.3f}; "
                f"kiosk disabled: {r['fps_off_alone']:.1f}"
            )
            print(
                f"[{pace}] preview in the page: {statistics.mean(r['preview']):.1f} fps "
                f"({', '.join(f'{x:.1f}' for x in r['preview'])}); RSS kiosk off {r['rss_off']:.1f} MiB, "
                f"on with the page {r['rss_on']:.1f} MiB ({r['rss_on'] - r['rss_off']:+.1f}); "
                f"{r['sessions']} sessions"
            )
            lat = sorted(r["lat"])
            if lat:
                p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
                print(
                    f"[{pace}] decision -> on screen: n={len(lat)} median {statistics.median(lat):.0f} ms, "
                    f"p95 {p95:.0f} ms, max {lat[-1]:.0f} ms"
                )


if __name__ == "__main__":
    main()
