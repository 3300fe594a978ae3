"""Member-screen figures, measured in one run: daemon frame rate without and with the page in a real headless
Chromium (ratio), preview fps in the page, RSS the page server adds, and the decision → on-screen latency.

Each phase is ``TerminalDaemon`` in its own child process on a looping walk-up clip replayed as fast as the
frame loop can take it (CPU-bound: the throughput a Pi has to spare), sessions back to back:
  off   [kiosk] disabled, no browser                     -> the reference frame rate and RSS
  on    [kiosk] enabled, Chromium showing the page        -> frame rate, RSS, preview fps, latencies
Latency: the snapshot's wall-clock stamp (taken in the frame loop right after the session step in which the
gate decided) to the page's first animation frame + task after it changed the DOM (Date.now() in Chromium).

  .venv/bin/python bench/bench_kiosk.py [--seconds 20] [--warmup 8]
"""

from __future__ import annotations

import argparse
import json
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
    """One phase: run the daemon, count frames in the window, print JSON, stop."""
    from terminal.camera.replay import ReplaySource
    from terminal.config import load_config
    from terminal.daemon.app import TerminalDaemon

    cfg = load_config(Path(args.config))
    daemon = TerminalDaemon(cfg, Path(args.config),
                            source_factory=lambda c: ReplaySource(args.clip, fps=15.0, realtime=False, loop=True))
    out: dict[str, float] = {}

    def watch() -> None:
        while daemon.camera.frames == 0:
            time.sleep(0.1)
        time.sleep(args.warmup)
        f0, t0 = daemon.camera.frames, time.monotonic()
        time.sleep(args.seconds)
        f1, t1 = daemon.camera.frames, time.monotonic()
        out.update(fps=(f1 - f0) / (t1 - t0), rss_mb=rss_mb(os.getpid()), sessions=daemon.sessions_done)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    daemon.run()
    print("RESULT " + json.dumps(out), flush=True)


def write_config(tmp: Path, ref: Path, kiosk: bool, port: int) -> Path:
    from tests.support.broker import free_port

    p = tmp / f"config-{'on' if kiosk else 'off'}.toml"
    p.write_text(f"""[terminal]\nid = "bench-kiosk"\nstate_dir = "{tmp / 'state'}"\n[camera]\nbackend = "replay"
fps = 15.0\n[mqtt]\nbrokers = ["mqtt://127.0.0.1:{free_port()}"]\nbackoff_max_s = 5.0\n[light]\npin_factory = "mock"
[daemon]\nwalkup_reference = "{ref}"\nwalkup_cooldown_s = 0.5\nwalkup_check_s = 0.2
[kiosk]\nenabled = {str(kiosk).lower()}\nport = {port}\nresult_hold_s = 1.0\n""")
    return p


def phase(cfg: Path, clip: Path, args: argparse.Namespace, port: int | None, tmp: Path) -> dict:
    proc = subprocess.Popen([sys.executable, __file__, "--phase", str(cfg), "--clip", str(clip), "--seconds",
                             str(args.seconds), "--warmup", str(args.warmup)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    page: dict = {}
    if port is not None:
        from tests.support.broker import wait_port
        from tests.support.browser import chromium

        wait_port(port, timeout=120)
        with chromium(tmp / "profile") as driver:
            driver.get(f"http://127.0.0.1:{port}/")
            time.sleep(args.warmup)
            s0, t0 = driver.execute_script("return window.kioskStats"), time.monotonic()
            time.sleep(args.seconds - 1)
            s1, t1 = driver.execute_script("return window.kioskStats"), time.monotonic()
            page = {"preview_fps": (s1["previews"] - s0["previews"]) / (t1 - t0),
                    "latencies_ms": s1["latencies"][len(s0["latencies"]):] or s1["latencies"]}
    stdout, _ = proc.communicate(timeout=300)
    line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))
    return {**json.loads(line[7:]), **page}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--clip", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        args.config = args.phase
        child(args)
        return
    import cv2

    from terminal.cli.main import main as cli
    from tests.kiosk.daemon import write_clip
    from tests.session.clips import blink_clip, yale
    from tests.support.broker import free_port

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clip = write_clip(blink_clip(yale(2, "normal"), yale(2, "sleepy"), 4.0, (0.8, 2.4), fps=15.0), tmp / "clip")
        img = tmp / "s02.png"
        cv2.imwrite(str(img), cv2.cvtColor(yale(2, "normal"), cv2.COLOR_RGB2BGR))
        ref = tmp / "ref.json"
        cli(["enroll", str(img), "--out", str(ref), "--skip", "UNSTEADY,OCCLUDED_GLASSES"])
        port = free_port()
        off = phase(write_config(tmp, ref, False, port), clip, args, None, tmp)
        on = phase(write_config(tmp, ref, True, port), clip, args, port, tmp)
    lat = sorted(on["latencies_ms"])
    print(f"daemon frame rate without the page: {off['fps']:.1f} fps ({off['sessions']} sessions), "
          f"RSS {off['rss_mb']:.1f} MiB")
    print(f"daemon frame rate with the page:    {on['fps']:.1f} fps ({on['sessions']} sessions), "
          f"RSS {on['rss_mb']:.1f} MiB")
    print(f"ratio with/without: {on['fps'] / off['fps']:.3f}   RSS added: {on['rss_mb'] - off['rss_mb']:+.1f} MiB")
    print(f"preview in the page: {on['preview_fps']:.1f} fps")
    if lat:
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        print(f"decision -> on screen: n={len(lat)} median {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms, "
              f"max {lat[-1]:.0f} ms")


if __name__ == "__main__":
    main()
