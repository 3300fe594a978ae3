"""Daemon figures: start to READY=1, RSS and CPU while idle and during a session, SIGTERM to exit.

Runs ``terminal run`` as systemd would (NOTIFY_SOCKET), with a replay camera (a live blink clip built from a
shared Yale subject) and a real mosquitto on loopback when the binary exists (else MQTT disabled).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from terminal.cli.main import main as cli  # noqa: E402
from tests.session.clips import live_frames, write_recording  # noqa: E402
from tests.support.shared import data  # noqa: E402


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS MiB, CPU seconds user+sys) of a process from /proc."""
    with open(f"/proc/{pid}/status") as fh:
        rss = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def cpu_share(pid: int, seconds: float) -> tuple[float, float]:
    """Mean CPU (fraction of one core) and peak RSS over ``seconds``."""
    rss0, c0 = proc_stats(pid)
    t0 = time.monotonic()
    peak = rss0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.1)
        peak = max(peak, proc_stats(pid)[0])
    _, c1 = proc_stats(pid)
    return (c1 - c0) / (time.monotonic() - t0), peak


def main() -> None:
    """Start the daemon, measure, send a verify, measure, stop it, print a table and JSON."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    clip = write_recording(live_frames("clm_franck"), tmp / "live")  # a real live member (12.5 s, blinks at 2.1 s)
    cli(["enroll", str(data("live/clm_franck/ref.jpg")), "--out", str(tmp / "ref.json")])
    broker = None
    mqtt_lines = "[mqtt]\nenabled = false\n"
    if shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        (tmp / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        broker = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(tmp / "m.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        mqtt_lines = f'[mqtt]\nbrokers = ["mqtt://127.0.0.1:{port}"]\nrequire_deadline = false\n'
    cfg = tmp / "config.toml"
    cfg.write_text(
        f'[terminal]\nid = "bench"\nstate_dir = "{tmp / "state"}"\n[camera]\nbackend = "replay"\n'
        f'source = "{clip}"\nfps = 24.0\n{mqtt_lines}[light]\npin_factory = "mock"\n'
    )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp / "notify"))
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp / "notify")}
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal", "run", "--config", str(cfg)],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.settimeout(60)
    while b"READY=1" not in sock.recv(4096):
        pass
    ready_s = time.monotonic() - t0
    time.sleep(1.0)
    idle_cpu, idle_rss = cpu_share(proc.pid, 4.0)
    session_cpu = session_rss = None
    if broker is not None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.connect("127.0.0.1", port)
        c.loop_start()
        ref = json.loads((tmp / "ref.json").read_text())
        # Sessions back to back for 4 s: each one runs the gate on every frame (the busy case).
        for i in range(3):
            c.publish("terminal/bench/cmd/verify", json.dumps({"request_id": f"b-{i}", "template": ref}), qos=1)
        session_cpu, session_rss = cpu_share(proc.pid, 4.0)
        c.loop_stop()
    t1 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    stop_s = time.monotonic() - t1
    if broker is not None:
        broker.terminate()
        broker.wait()
    rows = {
        "start_to_ready_s": round(ready_s, 2),
        "idle_cpu_core_fraction": round(idle_cpu, 3),
        "idle_rss_mib": round(idle_rss, 1),
        "session_cpu_core_fraction": None if session_cpu is None else round(session_cpu, 3),
        "session_rss_mib": None if session_rss is None else round(session_rss, 1),
        "sigterm_to_exit_s": round(stop_s, 2),
        "exit_code": rc,
    }
    for k, v in rows.items():
        print(f"{k:28s} {v}")
    print(json.dumps(rows))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
