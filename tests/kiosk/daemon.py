"""``terminal run`` with the member screen on, on a replayed clip, for the browser tests and the benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from terminal.camera.frame import Frame
from terminal.camera.recording import RecordingWriter
from terminal.security import keys
from tests.session.clips import H, W, live_frames
from tests.support.broker import free_port, wait_port

REPO = Path(__file__).resolve().parents[2]
FPS = 15.0


def empty_scene(t: float, rng: np.random.Generator) -> np.ndarray:
    """A wall with sensor noise: no face."""
    base = np.full((H, W, 3), 118, np.float32)
    base[:, :, 2] += 10 * np.sin(t)
    return np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)


def fill(img: np.ndarray) -> np.ndarray:
    """A real clip's frame scaled to cover the W x H camera frame (centre crop: no pasted edge)."""
    h, w = img.shape[:2]
    s = max(W / w, H / h)
    big = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
    y0, x0 = (big.shape[0] - H) // 2, (big.shape[1] - W) // 2
    return np.ascontiguousarray(big[y0 : y0 + H, x0 : x0 + W])


def live_clip_at(clip: str, fps: float = FPS) -> list[Frame]:
    """A real live clip (../shared/data/live) resampled to ``fps`` and filling the camera frame."""
    src = live_frames(clip)
    step = src[1].timestamp - src[0].timestamp
    n = int(src[-1].timestamp * fps)
    return [Frame(fill(src[min(round(i / fps / step), len(src) - 1)].image), i / fps, i) for i in range(n)]


def walkup_story(fps: float = FPS) -> list[Frame]:
    """Nobody (0-2.5 s), a real member (clm_franck, a real video) walks up (2.5-5 s), the scene turns dark
    (5-7 s), light again and he blinks (at 7.8 s, 7-10 s), nobody (10-14 s). With walk-up on: idle, session +
    blink prompt, dark, result, idle. The member is real video: spliced photos would be an attack."""
    rng = np.random.default_rng(13)
    member = live_frames("clm_franck")  # 24 fps; blinks at 2.1 s (hidden: nobody yet) and 7.8 s
    frames = []
    for i in range(round(14.0 * fps)):
        t = i / fps
        if t < 2.5 or t >= 10.0:
            img = empty_scene(t, rng)
        else:
            img = fill(member[min(round(t * 24.0), len(member) - 1)].image)
            if 5.0 <= t < 7.0:
                img = (img.astype(np.float32) * 0.05).astype(np.uint8)
        frames.append(Frame(img, t, i))
    return frames


def write_clip(frames: list[Frame], path: Path) -> Path:
    """A JPEG recording (fast to write; the gate sees camera-like compression)."""
    with RecordingWriter(path, source="test", image_format="jpg", jpeg_quality=90) as w:
        for f in frames:
            w.write(f)
    return path


CENTRAL_KEY = keys.generate()  # the central system's key: the tests' verify commands are signed with it


def kiosk_config(
    tmp: Path,
    clip: Path,
    *,
    port: int,
    broker_port: int | None = None,
    walkup: Path | None = None,
    extra: dict[str, dict[str, str]] | None = None,
    tid: str = "kiosk-t1",
) -> Path:
    """Replay camera (realtime, looping), mock GPIO, kiosk on ``port``, MQTT to ``broker_port`` (or nowhere)."""
    sections: dict[str, dict[str, str]] = {
        "terminal": {"id": f'"{tid}"', "state_dir": f'"{tmp / "state"}"'},
        "camera": {"backend": '"replay"', "source": f'"{clip}"', "fps": str(FPS)},
        "mqtt": {
            "brokers": f'["mqtt://127.0.0.1:{broker_port or free_port()}"]',
            "require_deadline": "false",
            "backoff_max_s": "1.0",
            "health_interval_s": "30.0",
            "allow_insecure": "true",
        },
        "security": {"central_public_keys": f'["{central_pub(tmp)}"]'},
        "light": {"pin_factory": '"mock"'},
        # A recording answers the one blink it shows, prompted at once (it cannot answer a random plan).
        "session": {"timeout_s": "30.0", "challenge_time_s": "12.0", "plan": '["blink"]', "prompt_delay_s": "[0, 0]"},
        "kiosk": {"enabled": "true", "port": str(port), "support_phone": '"175"', "result_hold_s": "4.0"},
        "daemon": {"walkup_cooldown_s": "8.0"},
    }
    if walkup is not None:
        sections["daemon"]["walkup_reference"] = f'"{walkup}"'
    for name, kv in (extra or {}).items():
        sections.setdefault(name, {}).update(kv)
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in kv.items()) for name, kv in sections.items())
    p = tmp / "config.toml"
    p.write_text(text)
    return p


def central_pub(tmp: Path) -> Path:
    """The central system's public key as a PEM file (the config's central_public_keys)."""
    p = tmp / "central.pub.pem"
    p.write_text(keys.public_pem(CENTRAL_KEY.public_key()))
    return p


class KioskDaemon:
    """The daemon in a subprocess; ``url`` answers once the page server is up."""

    def __init__(self, config: Path, port: int, log: Path, level: str = "info") -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terminal", "--log-level", level, "run", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            wait_port(port, timeout=90)
        except TimeoutError:
            self.stop()
            raise AssertionError(f"the page server did not come up; log:\n{log.read_text()[-3000:]}") from None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)
