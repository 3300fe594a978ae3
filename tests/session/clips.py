"""Recordings built from shared images: swaying photos and spliced open/closed photos (both ATTACKS), real clips.

A sequence spliced from still photos is the two-photo attack, never a live member: live members are the real
videos of ../shared/data/live and videos/blink_selfie (``live_frames``, ``video_frames``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from terminal.camera.frame import Frame
from terminal.camera.recording import RecordingWriter, read_image_rgb
from tests.support.shared import data

W, H = 640, 480


def yale(subject: int, condition: str) -> np.ndarray:
    """A Yale face image as RGB (320x243 grey expanded to 3 channels)."""
    return read_image_rgb(data(f"yalefaces/subject{subject:02d}/{condition}.jpg"))


def sway(image: np.ndarray, t: float, rng: np.random.Generator, scale: float = 2.0, noise: float = 3.0) -> np.ndarray:
    """``image`` held up to a 640x480 camera: scaled, with a small rigid sway (shift, turn, zoom) and sensor noise."""
    h, w = image.shape[:2]
    s = scale * (1 + 0.02 * np.sin(t * 1.3))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.0 * np.sin(t * 0.9), s)
    m[0, 2] += W / 2 - w / 2 + 12 * np.sin(t * 0.7)
    m[1, 2] += H / 2 - h / 2 + 8 * np.sin(t * 1.1)
    out = cv2.warpAffine(image, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    noisy = out.astype(np.float32) + rng.normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def photo_attack(image: np.ndarray, seconds: float, fps: float = 24.0, seed: int = 0) -> list[Frame]:
    """A still photo replayed as video: the same picture every frame, swaying, with fresh noise."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    return [Frame(sway(image, i / fps, rng), i / fps, i) for i in range(n)]


def two_photo_attack(
    open_img: np.ndarray,
    closed_img: np.ndarray,
    seconds: float,
    blinks: tuple[float, ...] = (1.0,),
    blink_s: float = 0.17,
    fps: float = 24.0,
    seed: int = 0,
) -> list[Frame]:
    """ATTACK: the open-eyed photo with the closed-eyed photo for ``blink_s`` at each time in ``blinks``, same sway."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(round(seconds * fps)):
        t = i / fps
        closed = any(b <= t < b + blink_s for b in blinks)
        frames.append(Frame(sway(closed_img if closed else open_img, t, rng), t, i))
    return frames


def video_frames(
    clip: str, start: int = 0, stop: int | None = None, fps: float = 24.0, scale: float = 1.0
) -> list[Frame]:
    """Decoded frames of a shared clip, re-timed from 0 at ``fps`` (optionally downscaled)."""
    files = sorted(data(f"videos/{clip}/frames").glob("*.jpg"))[start:stop]
    out = []
    for i, f in enumerate(files):
        img = read_image_rgb(f)
        if scale != 1.0:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        out.append(Frame(img, i / fps, i))
    return out


def live_frames(clip: str, stop: int | None = None) -> list[Frame]:
    """A real live clip of ../shared/data/live at its own frame rate (re-timed from 0)."""
    from tests.pad.attacks import live_clip

    return live_clip(clip)[:stop]


def write_recording(frames: list[Frame], path: Path) -> Path:
    """Write ``frames`` as a recording (PNG, lossless) that ``replay:PATH`` plays back with the same times."""
    with RecordingWriter(path, source="test", image_format="png") as w:
        for f in frames:
            w.write(f)
    return path
