"""Cost of the daemon's per-frame and per-log pieces, and how long `terminal diagnose` takes per check.

Run: .venv/bin/python bench/daemon_pieces.py   (prints a table, then one JSON line)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from terminal.config import config_from_dict  # noqa: E402
from terminal.daemon.journal import JournalHandler, WithFields  # noqa: E402
from terminal.daemon.sdnotify import FrameWatchdog, Notifier  # noqa: E402
from terminal.diagnostics.runner import run_diagnostics  # noqa: E402
from terminal.privacy import BiometricGuard  # noqa: E402


def per_call_us(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    """Mean microseconds per call over ``n`` calls."""
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    """Measure and print."""
    d = tempfile.mkdtemp(prefix="bench-", dir="/tmp")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(f"{d}/s")
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.setblocking(False)

    def drain() -> None:
        try:
            while sink.recv(1 << 16):
                pass
        except BlockingIOError:
            pass

    notifier = Notifier(f"{d}/s")
    rows: dict[str, float] = {}
    # The receiver is drained every 8 sends (the datagram queue holds ~10); the drain is in the figure.
    rows["notify WATCHDOG=1 (us)"] = per_call_us(lambda i: (notifier.watchdog(), drain() if i % 8 == 0 else None), 2000)
    drain()
    wd = FrameWatchdog(notifier, interval=30.0)
    rows["frame_arrived, no ping due (us)"] = per_call_us(lambda i: wd.frame_arrived(float(i + 1)), 20000)

    logger = logging.getLogger("bench")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    jh = JournalHandler(f"{d}/s")
    logger.handlers = [jh]
    extra = {"journal": {"SESSION_ID": "s-1", "RESULT": "match", "REASON": "OK"}}
    rows["journal handler emit (us)"] = per_call_us(
        lambda i: (logger.info("session %s ended", i, extra=extra), drain() if i % 8 == 0 else None), 5000
    )
    with open(os.devnull, "w") as null:
        sh = logging.StreamHandler(null)
        sh.setFormatter(WithFields(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")))
        sh.addFilter(BiometricGuard())
        logger.handlers = [sh]
        rows["stderr handler emit (us)"] = per_call_us(lambda i: logger.info("session %s ended", i, extra=extra), 5000)
    rows["journal / stderr ratio"] = rows["journal handler emit (us)"] / rows["stderr handler emit (us)"]

    frames = REPO.parent / "shared/data/videos/pyfeat_single_face/frames"
    cfg = config_from_dict(
        {
            "terminal": {"state_dir": f"{d}/state"},
            "light": {"pin_factory": "mock"},
            "camera": {"backend": "replay", "source": str(frames), "loop": True},
            "mqtt": {"brokers": ["mqtt://127.0.0.1:1"]},
        }
    )
    t0 = time.perf_counter()
    report = run_diagnostics(cfg, source_spec=f"sim:{frames}/000000.jpg?ambient=0.3")
    total = time.perf_counter() - t0
    for c in report.checks:
        rows[f"diagnose {c.name} (ms)"] = c.seconds * 1000
    rows["diagnose total (ms)"] = total * 1000

    width = max(len(k) for k in rows)
    for k, v in rows.items():
        print(f"{k:<{width}}  {v:10.2f}")
    print(json.dumps({k: round(v, 3) for k, v in rows.items()}))


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    main()
