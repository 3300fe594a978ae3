"""The attack set: presentation attacks built from ../shared/data, per kind and identity, as frame lists.

Live members are real video only (``live_clip``: ../shared/data/live and videos/blink_selfie). Every attack
uses a still or a clip of the victim (so that, were liveness fooled, it would match the victim's reference)
and a medium from media.py. Recipes: docs/liveness.md, "Attack set". Nothing here is committed data: the
images are read from ../shared at run time; bench/bench_pad.py caches the frames under /tmp.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from terminal.camera.frame import Frame
from terminal.camera.recording import read_image_rgb
from tests.pad import media
from tests.support.shared import data

FPS = 24.0
SECONDS = 7.5  # enough for the steady run plus the whole challenge window (6 s)
DEFOCUS_SIGMA = 1.6  # screen_replay_defocused: a blur PAD scores as live (0.93) and some frames keep sharpness >= 1.10
BLINK_TIMES = (1.0, 2.5, 4.0, 5.5)


@dataclass(frozen=True)
class Identity:
    """A real person of the shared clips: frames, frame rate, reference image, an open and a closed-eye frame."""

    name: str
    folder: str
    fps: float
    ref: Path
    open_idx: int
    closed_idx: int

    @functools.cached_property
    def files(self) -> list[Path]:
        """The clip's frame files in order."""
        return sorted(data(self.folder).glob("*.jpg"))

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` of the clip (RGB), decoded once."""
        return _read(self.files[i])


@functools.lru_cache(maxsize=512)
def _read(path: Path) -> np.ndarray:
    img = read_image_rgb(path)
    img.setflags(write=False)
    return img


def _live(name: str, open_idx: int, closed_idx: int) -> Identity:
    fps = float(tomllib.loads(data(f"live/{name}/camera.toml").read_text())["camera"]["fps"])
    return Identity(name, f"live/{name}/frames", fps, data(f"live/{name}/ref.jpg"), open_idx, closed_idx)


def identities() -> list[Identity]:
    """The victims of the attack set: the live clips whose frames pass the gate (all but fsw_aadhyap_v1); closed-eye frames by eye (README)."""
    return [
        _live("clm_franck", 0, 51),
        _live("fsw_bernard3073_data2", 12, 5),
        _live("fsw_manikamakam_data1", 30, 9),
        _live("fsw_sakshikakde_data1", 0, 27),
        _live("fsw_bernard3073_data1", 0, 41),
    ]


LIVE_CLIPS = (
    "clm_franck",
    "fsw_aadhyap_v1",
    "fsw_bernard3073_data1",
    "fsw_bernard3073_data2",
    "fsw_manikamakam_data1",
    "fsw_sakshikakde_data1",
)


def live_clip(name: str) -> list[Frame]:
    """A real live clip at its own frame rate, re-timed from 0."""
    fps = float(tomllib.loads(data(f"live/{name}/camera.toml").read_text())["camera"]["fps"])
    files = sorted(data(f"live/{name}/frames").glob("*.jpg"))
    return [Frame(read_image_rgb(f), i / fps, i) for i, f in enumerate(files)]


def selfie_windows(starts: tuple[int, ...] = (0, 30, 60, 90), n: int = 100) -> list[tuple[str, list[Frame]]]:
    """Windows of the real blink_selfie video (before its long closures), re-timed from 0 at 23.9 fps."""
    files = sorted(data("videos/blink_selfie/frames").glob("*.jpg"))
    return [
        (f"blink_selfie_{s}", [Frame(read_image_rgb(f), i / 23.9, i) for i, f in enumerate(files[s : s + n])])
        for s in starts
    ]


def selfie_ref_images() -> list[np.ndarray]:
    """Reference shots of the blink_selfie man from later in the video (never fed to sessions)."""
    files = sorted(data("videos/blink_selfie/frames").glob("*.jpg"))
    return [read_image_rgb(f) for f in files[205:235:10]]


# -- composition ---------------------------------------------------------------------------------------------
def _canvas(ident: Identity) -> np.ndarray:
    """The room behind the medium: the clip's first frame, enlarged 1.2x, heavily blurred and dimmed."""
    img = ident.frame(0)
    h, w = img.shape[:2]
    big = cv2.resize(img, (int(w * 1.2) // 2 * 2, int(h * 1.2) // 2 * 2))
    return (cv2.GaussianBlur(big, (0, 0), 25) * 0.6).astype(np.uint8)


def _noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise (about 2 grey levels)."""
    return np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape, dtype=np.int16), 0, 255).astype(np.uint8)


def _landmarks(img: np.ndarray) -> np.ndarray:
    from tests.pad.landmarks import landmarks_of

    return landmarks_of(img)


def _timeline(render: Callable[[float, int], np.ndarray], seed: int, seconds: float = SECONDS) -> list[Frame]:
    rng = np.random.default_rng(seed)
    return [Frame(_noise(render(i / FPS, i), rng), i / FPS, i) for i in range(round(seconds * FPS))]


def _held(
    ident: Identity,
    medium: Callable[[float, int], np.ndarray],
    seed: int,
    seconds: float,
    scale: float = 1.1,
    tilt: Callable[[float], float] = lambda t: 0.0,
    sway: float = 1.0,
) -> list[Frame]:
    canvas = _canvas(ident)
    return _timeline(lambda t, i: media.hold(medium(t, i), canvas, t, scale, tilt(t), sway), seed, seconds)


def _blinking(t: float) -> bool:
    return any(b <= t < b + 5 / FPS for b in BLINK_TIMES)  # 5 frames shut, as the attack


def print_rigid(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """A printed photo held up and moved a little."""
    p = media.paper_margin(media.print_texture(ident.frame(ident.open_idx), np.random.default_rng(seed)))
    return _held(ident, lambda t, i: p, seed, seconds)


def print_tilted(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """A printed photo tilted back and forth (+-25 degrees about the vertical axis)."""
    p = media.paper_margin(media.print_texture(ident.frame(ident.open_idx), np.random.default_rng(seed)))
    return _held(ident, lambda t, i: p, seed, seconds, tilt=lambda t: 25.0 * np.sin(0.8 * t))


def print_folded(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """A print folded along the eye line, the fold opening and closing (15-55 degrees)."""
    img = ident.frame(ident.open_idx)
    lm = _landmarks(img)
    crease = float(lm[[159, 145, 386, 374], 1].mean())
    p = media.print_texture(img, np.random.default_rng(seed))
    return _held(
        ident, lambda t, i: media.paper_margin(media.fold(p, crease, 35 + 20 * np.sin(1.7 * t))), seed, seconds
    )


def print_halftone(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """A halftone (clustered-dot) print held up."""
    p = media.paper_margin(media.halftone(ident.frame(ident.open_idx)))
    return _held(ident, lambda t, i: p, seed, seconds)


def _warped_pair(ident: Identity) -> tuple[np.ndarray, np.ndarray]:
    img = ident.frame(ident.open_idx)
    return img, media.warp_eyelids(img, _landmarks(img), 1.0)


def warped_eyelids(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """One printed photo whose eyelids are warped shut for 5 frames at each blink time."""
    rng = np.random.default_rng(seed)
    o, c = (media.paper_margin(media.print_texture(x, rng)) for x in _warped_pair(ident))
    return _held(ident, lambda t, i: c if _blinking(t) else o, seed, seconds)


def two_photos(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """An open-eyed and a closed-eyed still of the member alternated (the old spliced 'live' clips)."""
    o, c = ident.frame(ident.open_idx), ident.frame(ident.closed_idx)
    return _held(ident, lambda t, i: c if _blinking(t) else o, seed, seconds, scale=1.15, sway=0.5)


def _screen(ident: Identity, content: Callable[[float, int], np.ndarray], seed: int, seconds: float) -> list[Frame]:
    rng = np.random.default_rng(seed + 1)
    return _held(
        ident, lambda t, i: media.bezel(media.screen(content(t, i), t, rng)), seed, seconds, scale=1.1, sway=0.5
    )


def screen_replay(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """The member's own live clip replayed on a phone/tablet screen (moire, gamma, glare, bezel), looping."""
    n = len(ident.files)
    return _screen(ident, lambda t, i: ident.frame(int(t * ident.fps) % n), seed, seconds)


def screen_replay_defocused(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """The screen replay with the camera defocused (Gaussian, sigma 1.6 px): soft enough to hide the screen's texture
    from PAD, just sharp enough for some identities to pass the gate's BLURRY check (hostile review)."""
    return [
        dataclasses.replace(f, image=cv2.GaussianBlur(f.image, (0, 0), DEFOCUS_SIGMA))
        for f in screen_replay(ident, seed, seconds)
    ]


def screen_warped_blink(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """The eyelid-warped photo shown on a screen."""
    o, c = _warped_pair(ident)
    return _screen(ident, lambda t, i: c if _blinking(t) else o, seed, seconds)


def _accomplice(
    ident: Identity, other: Identity, seed: int, offset: float, seconds: float, back_s: float | None = None
) -> list[Frame]:
    """Victim's print, 0.5 s of empty view, an accomplice's real blink (shifted by ``offset`` of the width), print
    (from 3.7 s, or ``back_s`` after the accomplice's blink)."""
    p = media.paper_margin(media.print_texture(ident.frame(ident.open_idx), np.random.default_rng(seed)))
    canvas = _canvas(ident)
    H, W = canvas.shape[:2]
    start = max(0, other.closed_idx - int(0.8 * other.fps))
    back = 3.7 if back_s is None else 2.0 + (other.closed_idx - start) / other.fps + back_s

    def render(t: float, i: int) -> np.ndarray:
        if t < 1.5 or t >= back:
            return media.hold(p, canvas, t, 1.1)
        if t < 2.0:
            return canvas
        k = min(start + int((t - 2.0) * other.fps), len(other.files) - 1)
        face = other.frame(k)
        fh, fw = face.shape[:2]
        s = 1.1 * max(W / fw, H / fh) if fh > fw else 1.1 * min(W / fw, H / fh)  # face as big as the print's
        m = np.array([[s, 0, (W - fw * s) / 2 + offset * W], [0, s, (H - fh * s) / 2]], np.float32)
        return cv2.warpAffine(face, m, (W, H), dst=canvas.copy(), borderMode=cv2.BORDER_TRANSPARENT)

    return _timeline(render, seed, seconds + 1.0)


def accomplice_offcentre(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """The accomplice blinks off-centre (failing the gate), between two showings of the victim's print."""
    return _accomplice(ident, _next(ident), seed, 0.3, seconds)


def accomplice_centred(ident: Identity, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """The accomplice blinks centred (passing the gate), between two showings of the victim's print."""
    return _accomplice(ident, _next(ident), seed, 0.0, seconds)


def accomplice_swap(ident: Identity, back_s: float, seed: int = 0, seconds: float = SECONDS) -> list[Frame]:
    """Not in ATTACKS (bench_pad.py --swap): the centred accomplice blinks and the victim's print is back
    ``back_s`` later, inside the quiet after the answer (the case a longer liveness once let through)."""
    return _accomplice(ident, _next(ident), seed, 0.0, seconds, back_s)


def _next(ident: Identity) -> Identity:
    ids = identities()
    names = [i.name for i in ids]
    return ids[(names.index(ident.name) + 1) % len(ids)]


ATTACKS: dict[str, Callable[..., list[Frame]]] = {
    "print_rigid": print_rigid,
    "print_tilted": print_tilted,
    "print_folded": print_folded,
    "print_halftone": print_halftone,
    "warped_eyelids": warped_eyelids,
    "accomplice_offcentre": accomplice_offcentre,
    "accomplice_centred": accomplice_centred,
    "two_photos": two_photos,
    "screen_replay": screen_replay,
    "screen_replay_defocused": screen_replay_defocused,
    "screen_warped_blink": screen_warped_blink,
}
