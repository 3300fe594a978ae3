"""`terminal diagnose` against a replayed camera, gpiozero mock pins and a real mosquitto; every check can fail."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.camera.replay import ReplaySource
from terminal.cli.main import main
from terminal.config import Config, config_from_dict
from terminal.diagnostics import system as diag_system
from terminal.diagnostics.runner import DiagnoseLimits, run_diagnostics
from terminal.modelstore import model_path
from tests.support.broker import Mosquitto
from tests.support.shared import data

FRAMES = "videos/pyfeat_single_face/frames"


def make_config(tmp_path: Path, brokers: list[str] | None = None, **sections: dict[str, Any]) -> Config:
    """A config on a looping replay camera, mock pins, a state dir in tmp_path and the given brokers."""
    raw: dict[str, Any] = {
        "terminal": {"id": "t-diag", "state_dir": str(tmp_path / "state")},
        "camera": {"backend": "replay", "source": str(data(FRAMES)), "loop": True},
        "light": {"pin_factory": "mock"},
        "mqtt": {"brokers": brokers or ["mqtt://127.0.0.1:1"], "connect_timeout_s": 5},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return config_from_dict(raw)


def write_config(tmp_path: Path, cfg: Config) -> Path:
    """The config as a TOML file for the CLI."""
    lines = []
    for section, values in cfg.model_dump(mode="json", exclude_none=True).items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def sim(extra: str = "") -> str:
    """A replayed still re-lit by the ring light's duty (read from the mock pin) and ambient light."""
    return f"sim:{data(FRAMES)}/000000.jpg?ambient=0.3{extra}"


@pytest.mark.slow
@pytest.mark.broker
def test_diagnose_json_passes_on_healthy_terminal(
    tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto], capsys: pytest.CaptureFixture[str]
) -> None:
    broker = mosquitto_factory()
    cfg_file = write_config(tmp_path, make_config(tmp_path, [broker.url]))
    snap = tmp_path / "snap.jpg"
    rc = main(["diagnose", "--json", "--config", str(cfg_file), "--source", sim(), "--snapshot", str(snap)])
    report = json.loads(capsys.readouterr().out)
    status = {c["name"]: c["status"] for c in report["checks"]}
    assert rc == 0 and report["ok"] is True, report
    for name in ("versions", "camera", "light", "models", "mqtt", "outbox", "disk", "snapshot"):
        assert status[name] == "pass", (name, report)
    assert status["clock"] in ("pass", "warn") and status["thermal"] in ("pass", "warn", "skip")
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["camera"]["details"]["fps"] == pytest.approx(30.0, rel=0.01)
    steps = checks["light"]["details"]["steps"]
    assert steps[0]["duty"] == 0 and steps[-1]["duty"] == pytest.approx(0.85)
    assert all(s["pin"] == pytest.approx(s["duty"], abs=0.01) for s in steps), "the mock pin follows the duty"
    assert steps[-1]["brightness"] > steps[0]["brightness"] + 20
    assert checks["models"]["details"]["landmarker"]["faces"] == 1
    assert checks["models"]["details"]["embedder"]["norm"] == pytest.approx(1.0, abs=0.01)
    assert 0.0 <= checks["models"]["details"]["pad"]["score"] <= 1.0  # the PAD pair loads and runs
    assert checks["mqtt"]["details"]["brokers"][0]["puback_ok"] is True
    assert checks["outbox"]["details"]["depth"] == 0
    assert snap.read_bytes()[:2] == b"\xff\xd8" and checks["snapshot"]["details"]["face"] is True
    snap_details = checks["snapshot"]["details"]
    assert isinstance(snap_details["advisories"], list)
    assert isinstance(snap_details["sharpness"], float) and snap_details["sharpness"] > 0.5  # PAD's min_sharpness


def test_replay_camera_cannot_pass_the_light_test(tmp_path: Path) -> None:
    """A replay ignores the lamp, exactly like a camera looking at a dead one: the light check must fail."""
    report = run_diagnostics(make_config(tmp_path), only=["camera", "light"])
    assert report.get("camera").status == "pass"
    light = report.get("light")
    assert light.status == "fail" and "lamp dead" in light.summary
    assert not report.ok


@pytest.mark.slow
def test_dead_lamp_fails_and_cli_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg_file = write_config(tmp_path, make_config(tmp_path))
    rc = main(["diagnose", "--config", str(cfg_file), "--source", sim("&dead_lamp=1"), "--only", "light"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "light  FAIL" in out and "FAILED: light" in out


def test_black_frames_fail_the_camera(tmp_path: Path) -> None:
    dark = f"sim:{data(FRAMES)}/000000.jpg?ambient=0&dead_lamp=1"  # night, and the lamp gives nothing
    report = run_diagnostics(make_config(tmp_path), source_spec=dark, only=["camera"])
    camera = report.get("camera")
    assert camera.status == "fail" and "black" in camera.summary


class HangingSource(FrameSource):
    """Two real frames, then read() blocks like a camera driver that stopped delivering."""

    name = "hanging"

    def __init__(self) -> None:
        super().__init__()
        self.inner = ReplaySource(data(FRAMES), loop=True)
        self.release = threading.Event()
        self.n = 0

    def _start(self) -> None:
        self.inner.start()

    def _stop(self) -> None:
        self.release.set()
        self.inner.stop()

    def _read(self) -> Frame | None:
        self.n += 1
        if self.n > 2:
            self.release.wait()
            return None
        return self.inner.read()


class StaleSource(HangingSource):
    """Keeps returning the same buffer with the same timestamp."""

    def _read(self) -> Frame | None:
        frame = self.inner.read()
        assert frame is not None
        return Frame(frame.image, 1.0, frame.index, frame.metadata)


def test_hung_camera_fails_within_the_timeout(tmp_path: Path) -> None:
    source = HangingSource()
    try:
        report = run_diagnostics(
            make_config(tmp_path), source=source, only=["camera", "light"], limits=DiagnoseLimits(camera_timeout_s=0.5)
        )
    finally:
        source.release.set()
    assert report.get("camera").status == "fail" and "hangs" in report.get("camera").summary
    assert report.get("light").status == "fail", "no light test on a stuck camera"


def test_frozen_timestamps_fail_the_camera(tmp_path: Path) -> None:
    report = run_diagnostics(make_config(tmp_path), source=StaleSource(), only=["camera"])
    assert report.get("camera").status == "fail" and "frozen" in report.get("camera").summary


def test_slow_camera_fails(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, camera={"fps": 50.0})  # half of 50 fps is the lowest acceptable rate
    camera = run_diagnostics(cfg, source=ReplaySource(data(FRAMES), fps=30), only=["camera"]).get("camera")
    assert camera.status == "pass" and camera.details["fps"] == pytest.approx(30, rel=0.01)
    strict = run_diagnostics(cfg, source=ReplaySource(data(FRAMES), fps=10), only=["camera"]).get("camera")
    assert strict.status == "fail" and "below" in strict.summary


def test_corrupt_and_missing_models_fail(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("face_landmarker", "mobilefacenet_sirius_128d_fp16"):
        src = model_path(name)
        shutil.copy(src, models / src.name)
    blob = models / model_path("mobilefacenet_sirius_128d_fp16").name
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    blob.write_bytes(bytes(raw))
    check = run_diagnostics(make_config(tmp_path, models={"dir": str(models)}), only=["models"]).get("models")
    assert check.status == "fail" and "wrong sha256" in check.summary
    assert "error" not in check.details["landmarker"], "the intact landmarker still passes"
    missing = run_diagnostics(make_config(tmp_path, models={"dir": str(tmp_path / "none")}), only=["models"])
    assert missing.get("models").status == "fail" and "missing" in missing.get("models").summary


@pytest.mark.broker
def test_mqtt_failures(
    tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto], monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = mosquitto_factory(users={"t-diag": "right", "other": "pw"})
    monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "right")
    ok = run_diagnostics(make_config(tmp_path, [broker.url], mqtt={"username": "t-diag"}), only=["mqtt"])
    assert ok.get("mqtt").status == "pass"
    # Failover broker down: still works, but says so.
    down = run_diagnostics(
        make_config(tmp_path, [broker.url, "mqtt://127.0.0.1:1"], mqtt={"username": "t-diag"}), only=["mqtt"]
    ).get("mqtt")
    assert down.status == "warn" and "Connection refused" in down.summary
    monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "wrong")
    bad_pw = run_diagnostics(make_config(tmp_path, [broker.url], mqtt={"username": "t-diag"}), only=["mqtt"])
    assert bad_pw.get("mqtt").status == "fail" and "refused the connection" in bad_pw.get("mqtt").summary
    # Authenticated as "other" but publishing under t-diag's topics: the ACL refuses, PUBACK says so.
    monkeypatch.setenv("TERMINAL_MQTT_PASSWORD", "pw")
    denied = run_diagnostics(make_config(tmp_path, [broker.url], mqtt={"username": "other"}), only=["mqtt"])
    assert denied.get("mqtt").status == "fail" and "refused the publish" in denied.get("mqtt").summary
    unreachable = run_diagnostics(make_config(tmp_path), only=["mqtt"]).get("mqtt")
    assert unreachable.status == "fail"


def test_outbox_checks(tmp_path: Path) -> None:
    from terminal.report.outbox import Outbox

    cfg = make_config(tmp_path, outbox={"max_rows": 10})
    assert run_diagnostics(cfg, only=["outbox"]).get("outbox").status == "pass"
    with Outbox.from_config(cfg.outbox, cfg.terminal.state_dir) as box:
        for i in range(10):
            box.put(f"r{i}", "result", {"i": i})
    full = run_diagnostics(cfg, only=["outbox"]).get("outbox")
    assert full.status == "fail" and "FULL" in full.summary and full.details["depth"] == 10
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    broken = make_config(tmp_path, terminal={"state_dir": str(blocker / "state")})
    check = run_diagnostics(broken, only=["outbox"]).get("outbox")
    assert check.status == "fail" and "not writable" in check.summary


def test_disk_and_clock_can_fail(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    assert run_diagnostics(cfg, only=["disk"]).get("disk").status == "pass"
    full = run_diagnostics(cfg, only=["disk"], limits=DiagnoseLimits(min_free_mb=1e12)).get("disk")
    assert full.status == "fail" and "need" in full.summary
    assert diag_system.check_clock(now=lambda: 0.0).status == "fail"  # 1970: no RTC, no NTP
    synced = tmp_path / "root"
    (synced / "run/systemd/timesync").mkdir(parents=True)
    (synced / "run/systemd/timesync/synchronized").write_text("")
    assert diag_system.check_clock(sys_root=synced).status == "pass"
    assert diag_system.check_clock(sys_root=tmp_path / "empty").status == "pass", "unknown sync is not a failure"


def thermal_root(tmp_path: Path, millideg: int) -> Path:
    """A fake /sys with one cpu-thermal zone."""
    zone = tmp_path / f"sys{millideg}" / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text(f"{millideg}\n")
    return tmp_path / f"sys{millideg}"


def fake_vcgencmd(tmp_path: Path, bits: str) -> str:
    """A vcgencmd stand-in printing ``throttled=<bits>``."""
    exe = tmp_path / f"vcgencmd-{bits}"
    exe.write_text(f"#!/bin/sh\necho throttled={bits}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe)


@pytest.mark.parametrize(
    ("millideg", "bits", "status", "text"),
    [
        (45000, "0x0", "pass", "45.0 °C"),
        (74000, "0x0", "warn", "74.0 °C"),
        (91000, "0x0", "fail", "ventilation"),
        (50000, "0x50005", "fail", "NOW: under-voltage, throttled"),
        (50000, "0x50000", "warn", "since boot: under-voltage, throttled"),
    ],
)
def test_thermal(tmp_path: Path, millideg: int, bits: str, status: str, text: str) -> None:
    check = diag_system.check_thermal(
        DiagnoseLimits(), sys_root=thermal_root(tmp_path, millideg), vcgencmd=fake_vcgencmd(tmp_path, bits)
    )
    assert check.status == status and text in check.summary


def test_versions_fail_on_a_broken_package(monkeypatch: pytest.MonkeyPatch) -> None:
    assert diag_system.check_versions().status == "pass"
    monkeypatch.setitem(diag_system.REQUIRED, "no-such-dist", "no_such_module_xyz")
    check = diag_system.check_versions()
    assert check.status == "fail" and "no_such_module_xyz" in check.summary


def test_unknown_check_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError):
        run_diagnostics(make_config(tmp_path), only=["camera", "coffee"])
    assert main(["diagnose", "--only", "coffee"]) == 2
    assert "unknown check" in capsys.readouterr().err
