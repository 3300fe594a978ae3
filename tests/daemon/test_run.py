"""The daemon end to end: replay camera + real mosquitto + sd_notify socket, as systemd would run it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from terminal.cli.main import main
from terminal.security import keys
from terminal.security.canonical import canonical_json
from terminal.security.envelope import sign_command, verify_payload
from tests.daemon.sockets import DatagramListener
from tests.report.helpers import Central
from tests.session.clips import live_frames, video_frames, write_recording
from tests.support.broker import Mosquitto
from tests.support.shared import data

pytestmark = pytest.mark.slow  # terminal run in a subprocess with a real broker and the real models

REPO = Path(__file__).resolve().parents[2]
TID = "kc-test-01"
TERMINAL_PASSWORD = "pw-kc-test-01"
CENTRAL_KEY = keys.generate()  # the central system's signing key: every command below is signed with it


def notifications(listener: DatagramListener, wait: float = 0.05) -> list[str]:
    """All sd_notify lines received so far."""
    return [line for msg in listener.drain(wait) for line in msg.decode().splitlines()]


def pings_stop(d: Daemon, period: float, timeout: float = 15.0) -> bool:
    """Wait (event-based, no fixed sleep) for a whole watchdog period without a WATCHDOG=1 ping."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "WATCHDOG=1" not in notifications(d.notify, period):
            return True
    return False


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference of the man in the live clip, enrolled from his ref.jpg with the real models."""
    d = tmp_path_factory.mktemp("ref")
    out = d / "ref.json"
    img = data("live/fsw_bernard3073_data2/ref.jpg")
    assert main(["enroll", str(img), "--out", str(out), "--skip", "UNSTEADY"]) == 0
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def live_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real live member: a man looking at the camera and blinking naturally (three blinks in 2.7 s)."""
    return write_recording(live_frames("fsw_bernard3073_data2"), tmp_path_factory.mktemp("clips") / "live")


def write_config(tmp: Path, broker: Mosquitto, source: Path, keep_images: bool = False, **extra: str) -> Path:
    """A daemon config: replay camera, MQTT 5 on loopback (TLS + password when the broker has users, else plain
    with allow_insecure), signed commands required, mock GPIO, state in tmp."""
    central_pub = tmp / "central.pub.pem"
    central_pub.write_text(keys.public_pem(CENTRAL_KEY.public_key()))
    if broker.users is not None:
        mqtt = [f'brokers = ["{broker.url}"]', f'username = "{TID}"', f'ca_file = "{broker.ca_file}"']
    else:
        mqtt = [f'brokers = ["{broker.url}"]', "allow_insecure = true"]
    lines = [
        "[terminal]",
        f'id = "{TID}"',
        f'state_dir = "{tmp / "state"}"',
        f"keep_images = {str(keep_images).lower()}",
        "[camera]",
        'backend = "replay"',
        f'source = "{source}"',
        "fps = 24.0",
        "[security]",
        f'central_public_keys = ["{central_pub}"]',
        "[mqtt]",
        *mqtt,
        "health_interval_s = 2.0",
        "require_deadline = false",
        "backoff_max_s = 1.0",
        "[light]",
        'pin_factory = "mock"',
        "[session]",
        "timeout_s = 20.0",
        'plan = ["blink"]',  # a recording answers the one blink it shows, prompted at once (not a random plan)
        "prompt_delay_s = [0.0, 0.0]",
    ]
    for k, v in extra.items():
        lines.append(f"{k} = {v}")
    p = tmp / "config.toml"
    p.write_text("\n".join(lines) + "\n")
    return p


class Daemon:
    """``terminal run`` in a subprocess with NOTIFY_SOCKET and WATCHDOG_USEC set, like systemd does."""

    def __init__(self, config: Path, watchdog_s: float = 2.0) -> None:
        self.notify = DatagramListener()
        env = {
            **os.environ,
            "NOTIFY_SOCKET": self.notify.env_value,
            "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
            "PYTHONUNBUFFERED": "1",
            "TERMINAL_MQTT_PASSWORD": TERMINAL_PASSWORD,
        }
        env.pop("WATCHDOG_PID", None)
        self.log = config.parent / "daemon.log"
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terminal", "--log-level", "info", "run", "--config", str(config)],
            env=env,
            cwd=REPO,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.lines += notifications(self.notify, 0.1)
            for line in self.lines:
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                break
        raise AssertionError(
            f"no {prefix!r} from the daemon; got {self.lines[-10:]}; log:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        return rc, time.monotonic() - t0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def command(central: Central, name: str, body: dict[str, Any], signed: bool = True) -> None:
    """Publish a command as the central system does: signed for this command name and terminal."""
    payload = sign_command(body, CENTRAL_KEY, terminal_id=TID, name=name) if signed else body
    central.client.publish(f"terminal/{TID}/cmd/{name}", json.dumps(payload), qos=1)


def test_verify_command_in_events_and_one_result_out(
    tmp_path: Path, mosquitto_factory: Any, reference: dict[str, Any], live_clip: Path
) -> None:
    broker = mosquitto_factory(tls=True, users={TID: TERMINAL_PASSWORD})  # the documented broker config and ACL
    central = Central(broker, f"terminal/{TID}/#")
    d = Daemon(write_config(tmp_path, broker, live_clip, keep_images=True))
    try:
        ready = d.wait_for("READY=1")
        assert ready
        central.wait_for("status", lambda p: p.get("state") == "online")
        # Bad input first: the daemon answers with an error and keeps serving.
        central.client.publish(f"terminal/{TID}/cmd/verify", b"{not json", qos=1)
        command(central, "verify", {"request_id": "r-bad-1", "template": {"model": "x"}})
        command(central, "frobnicate", {"request_id": "r-bad-2"})
        command(central, "verify", {"request_id": "r-unsigned", "template": reference}, signed=False)
        errors = central.wait_for("reply", lambda p: p.get("ok") is False, n=4)
        codes = {e["error"]["code"] for e in errors}
        assert {"BAD_JSON", "UNKNOWN_COMMAND", "BAD_SIGNATURE"} <= codes
        assert len(codes & {"BAD_TEMPLATE", "INVALID", "WRONG_MODEL"}) == 1
        command(central, "verify", {"request_id": "r-001", "template": reference})
        result = central.wait_for("result", timeout=60)[0]
        # signed by the terminal's own key (created at first start), checked exactly as received
        assert main(["keys", "show", "--key", str(tmp_path / "state" / "terminal_key.pem")]) == 0
        terminal_pub = keys.load_public(tmp_path / "state" / "terminal_key.pem")
        raw = next(bytes(m.payload) for m in central.messages if m.topic.endswith("/result"))
        signed = verify_payload(raw, [terminal_pub])
        assert signed["reference_sha256"] == hashlib.sha256(canonical_json(reference)).hexdigest()
        assert (tmp_path / "state" / "terminal_key.pem").stat().st_mode & 0o777 == 0o600
        assert result["request_id"] == "r-001"
        assert result["terminal_id"] == TID
        assert result["decision"] == "match", result
        assert result["score"] >= result["threshold"]
        assert "embedding" not in result and "image" not in result  # scores, not faces, go to the centre
        kept = tmp_path / "state" / "captures" / result["capture_file"]  # keep_images: on the terminal only
        assert kept.stat().st_mode & 0o777 == 0o600 and kept.stat().st_size > 1000
        events = central.on("event")
        assert any(e.get("type") == "guidance" for e in events)
        assert all(e.get("request_id") == "r-001" for e in events if "request_id" in e)
        # Health: camera, light, outbox, versions, as the operator sees them.
        # (the PUBACK of the result may be committed just after a health message: wait for the one after it)
        health = central.wait_for(
            "health", lambda p: p.get("sessions_done", 0) >= 1 and p.get("outbox", {}).get("depth") == 0
        )[0]
        assert health["camera"]["state"] == "up" and health["camera"]["fps"] > 0
        assert health["light"]["available"] is True and health["outbox"]["depth"] == 0
        assert health["versions"]["terminal"] and "cpu_temp_c" in health and health["uptime_s"] > 0
        # The watchdog was fed while frames flowed; the daemon still answers.
        assert any(line == "WATCHDOG=1" for line in d.lines + notifications(d.notify))
        command(central, "ping", {"request_id": "r-ping"})
        assert central.wait_for("reply", lambda p: p.get("request_id") == "r-ping")[0]["pong"] is True
        rc, _took = d.stop()  # the time it takes is a figure of bench/bench_daemon.py, not a test
        assert rc == 0
        central.wait_for("status", lambda p: p.get("state") == "stopped")
        assert "STOPPING=1" in d.lines + notifications(d.notify)
        # Exactly one result for the request, counted after the daemon has stopped and flushed everything.
        assert len([r for r in central.on("result") if r["request_id"] == "r-001"]) == 1
    finally:
        d.kill()
        central.close()


def test_sigterm_mid_session_sends_cancelled_and_exits_zero(
    tmp_path: Path, mosquitto_factory: Any, reference: dict[str, Any]
) -> None:
    broker = mosquitto_factory()
    central = Central(broker, f"terminal/{TID}/#")
    no_face = write_recording(video_frames("pyfeat_no_face", 0, 60, fps=24.0), tmp_path / "noface")
    d = Daemon(write_config(tmp_path, broker, no_face))
    try:
        d.wait_for("READY=1")
        central.wait_for("status", lambda p: p.get("state") == "online")
        command(central, "verify", {"request_id": "r-term", "template": reference})
        central.wait_for("reply", lambda p: p.get("request_id") == "r-term" and p.get("ok"))
        central.wait_for("event", lambda p: p.get("request_id") == "r-term")
        rc, _took = d.stop(signal.SIGTERM)
        assert rc == 0
        result = central.wait_for("result", lambda p: p.get("request_id") == "r-term")[0]
        assert result["decision"] == "cancelled"
        central.wait_for("status", lambda p: p.get("state") == "stopped")
    finally:
        d.kill()
        central.close()


def test_sighup_invalid_config_keeps_running(tmp_path: Path, mosquitto_factory: Any, live_clip: Path) -> None:
    broker = mosquitto_factory()
    central = Central(broker, f"terminal/{TID}/#")
    cfg = write_config(tmp_path, broker, live_clip)
    d = Daemon(cfg)
    try:
        d.wait_for("READY=1")
        good = cfg.read_text()
        cfg.write_text(good + "[camera.oops]\nx = 1\n")
        d.proc.send_signal(signal.SIGHUP)
        refused = d.wait_for("STATUS=config reload refused")
        assert "camera" in refused
        assert d.proc.poll() is None
        cfg.write_text(good.replace("health_interval_s = 2.0", "health_interval_s = 3.0"))
        d.lines.clear()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for("RELOADING=1")
        central.wait_for("status", lambda p: p.get("state") == "online")
        command(central, "ping", {"request_id": "r-ping-2"})
        assert central.wait_for("reply", lambda p: p.get("request_id") == "r-ping-2")[0]["ok"] is True
        rc, _ = d.stop()
        assert rc == 0
    finally:
        d.kill()
        central.close()


def test_frozen_camera_stops_watchdog_pings(tmp_path: Path, live_clip: Path) -> None:
    """A camera that hangs inside read() (here: a frame file that is a FIFO nobody writes) stops WATCHDOG=1."""
    rec = tmp_path / "frozen"
    rec.mkdir()
    lines = (live_clip / "frames.jsonl").read_text().splitlines()[:24]
    for line in lines:
        name = json.loads(line)["file"]
        (rec / name).write_bytes((live_clip / name).read_bytes())
    fifo_line = json.loads(lines[-1])
    fifo_line.update(index=24, file="frozen.png", timestamp=fifo_line["timestamp"] + 1 / 24)
    os.mkfifo(rec / "frozen.png")
    (rec / "frames.jsonl").write_text("\n".join([*lines, json.dumps(fifo_line)]) + "\n")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[terminal]\nstate_dir = "{tmp_path / "state"}"\n[camera]\nbackend = "replay"\n'
        f'source = "{rec}"\nfps = 24.0\n[mqtt]\nenabled = false\n[light]\npin_factory = "mock"\n'
    )
    d = Daemon(cfg, watchdog_s=0.4)
    try:
        d.wait_for("READY=1")
        d.wait_for("WATCHDOG=1")
        # Opening a FIFO's write end without blocking fails (ENXIO) until a reader has it open: that is the
        # moment the daemon's camera reaches the frozen frame. We keep our write end open and never write, so
        # the daemon's read() then waits for data forever, as a wedged camera driver would.
        deadline = time.monotonic() + 60
        while True:
            try:
                writer = os.open(rec / "frozen.png", os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                assert time.monotonic() < deadline and d.proc.poll() is None, (
                    "the camera never reached the frozen frame"
                )
                time.sleep(0.05)
        assert pings_stop(d, period=0.4), "the watchdog kept being fed while read() hung"
        # three more watchdog periods without a ping: systemd would have killed and restarted the service by now
        assert "WATCHDOG=1" not in notifications(d.notify, 1.2)
        assert d.proc.poll() is None  # hung, not crashed: exactly what only the watchdog can catch
        assert "camera stopped" not in d.log.read_text()  # it hangs inside read(); nothing reopened it
    finally:
        d.kill()
        with contextlib.suppress(NameError, OSError):
            os.close(writer)


def test_camera_failure_is_reported_retried_and_recovers(
    tmp_path: Path, mosquitto_factory: Any, reference: dict[str, Any], live_clip: Path
) -> None:
    """An unplugged camera (reads fail) is reported and retried while the rest keeps serving; it comes back."""
    import shutil

    broker = mosquitto_factory()
    central = Central(broker, f"terminal/{TID}/#")
    rec = tmp_path / "cam"
    shutil.copytree(live_clip, rec)
    cfg = write_config(tmp_path, broker, rec)
    cfg.write_text(
        cfg.read_text().replace(
            "[terminal]",
            "[daemon]\ncamera_retry_min_s = 0.2\ncamera_retry_max_s = 0.4\n"
            "camera_down_grace_s = 1.5\ncommand_wait_s = 0.5\n[terminal]",
        )
    )
    d = Daemon(cfg, watchdog_s=0.4)
    try:
        d.wait_for("READY=1")
        central.wait_for("status", lambda p: p.get("state") == "online")
        rec.rename(tmp_path / "cam-unplugged")  # the camera disappears
        d.wait_for("STATUS=camera down")
        command(central, "verify", {"request_id": "r-nocam", "template": reference})
        err = central.wait_for("reply", lambda p: p.get("request_id") == "r-nocam")[0]
        assert err["ok"] is False and err["error"]["code"] == "CAMERA_DOWN"
        # Within the grace period the loop, alive and retrying, still feeds the watchdog; after it, it stops.
        assert "WATCHDOG=1" in notifications(d.notify, 0.5)
        assert pings_stop(d, period=0.4), "the watchdog was still fed long after the grace period"
        assert "WATCHDOG=1" not in notifications(d.notify, 1.0)
        assert d.proc.poll() is None  # under systemd the watchdog would now restart the service
        (tmp_path / "cam-unplugged").rename(rec)  # plugged back in
        d.lines.clear()
        d.wait_for("STATUS=idle")
        assert "WATCHDOG=1" in notifications(d.notify, 0.5)
        assert "camera is back" in d.log.read_text()
        rc, _ = d.stop()
        assert rc == 0
    finally:
        d.kill()
        central.close()
