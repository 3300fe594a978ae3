"""Unit tests of the one-face binding: tracker, identity consistency, challenge plan, blink signature, parallax."""

from __future__ import annotations

import random

import numpy as np
import pytest

from terminal.analysis.landmarker import FaceObservation, observation_from_pixels
from terminal.errors import TerminalError
from terminal.session.eyelids import LID_PAIRS_A, LID_PAIRS_B, EyelidDeformation
from terminal.session.identity import IdentityCheck
from terminal.session.liveness import challenge_plan, parallax
from terminal.session.settings import SessionConfig
from terminal.session.tracker import FACE_JUMPED, FACE_LOST, FRAME_GAP, SECOND_FACE, FaceTrack

RNG = np.random.default_rng(3)
MESH = RNG.uniform(-1, 1, (478, 3)).astype(np.float32)


def face_at(
    cx: float = 320, cy: float = 240, size: float = 100, lid: float = 1.0, depth_turn: float = 0.0
) -> FaceObservation:
    """A synthetic mesh centred at (cx, cy); ``lid`` scales the eyelid gaps; ``depth_turn`` adds z-parallax."""
    pts = MESH.copy()
    pts[:, 0] = pts[:, 0] * size / 2 + cx + depth_turn * pts[:, 2] * size
    pts[:, 1] = pts[:, 1] * size / 2 + cy
    for a, b in LID_PAIRS_A + LID_PAIRS_B:  # open eyes: lower lid 0.12*size below the upper one
        pts[b, :2] = pts[a, :2] + np.float32([0, 0.12 * size * lid])
    return observation_from_pixels(pts, {}, np.eye(4))


def test_tracker_follows_a_steady_face() -> None:
    tr = FaceTrack()
    for i in range(30):
        assert tr.update(face_at(320 + i, 240), 1, i / 30) is None
    assert tr.active and tr.breaks == 0


@pytest.mark.parametrize(
    ("event", "reason"),
    [("jump", FACE_JUMPED), ("resize", FACE_JUMPED), ("second", SECOND_FACE), ("lost", FACE_LOST), ("gap", FRAME_GAP)],
)
def test_tracker_breaks(event: str, reason: str) -> None:
    tr = FaceTrack()
    for i in range(5):
        tr.update(face_at(), 1, i / 30)
    t = 5 / 30
    if event == "jump":
        got = tr.update(face_at(cx=420), 1, t)
    elif event == "resize":
        got = tr.update(face_at(size=140), 1, t)
    elif event == "second":
        got = tr.update(face_at(), 2, t)
    elif event == "lost":
        got = None
        for k in range(10):  # 0.33 s without a face
            got = got or tr.update(None, 0, t + k / 30)
    else:
        got = tr.update(face_at(), 1, t + 0.5)
    assert got == reason
    assert not tr.active
    assert tr.update(face_at(), 1, t + 1.0) is None  # the next face starts a new track


def test_tracker_tolerates_one_missed_frame() -> None:
    tr = FaceTrack()
    tr.update(face_at(), 1, 0.0)
    assert tr.update(None, 0, 1 / 30) is None and tr.update(face_at(), 1, 2 / 30) is None


class FakeMatcher:
    """Embeds a face as the unit vector of its x position bucket: two faces far apart are 'different people'."""

    threshold = 0.5

    def embed_face(self, image: np.ndarray, face: FaceObservation) -> np.ndarray:
        if face.center[0] < 0:
            raise TerminalError("cannot align")
        v = np.zeros(4, np.float32)
        v[int(face.center[0] // 200) % 4] = 1.0
        return v


def test_identity_check_agrees_and_disagrees() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    probe = np.stack([FakeMatcher().embed_face(img, face_at(cx=100))] * 3)
    same = IdentityCheck(0.5)
    same.offer(img, face_at(cx=100), 0.0, acting=False, done=False)
    same.offer(img, face_at(cx=110), 0.1, acting=True, done=False)  # eyes closed: not kept as 'before'
    same.offer(img, face_at(cx=120), 0.5, acting=False, done=True)
    assert same.check(FakeMatcher(), probe) is True  # type: ignore[arg-type]
    assert same.to_dict()["cosine"] == {"before": 1.0, "after": 1.0}
    other = IdentityCheck(0.5)
    other.offer(img, face_at(cx=500), 0.0, acting=False, done=False)  # the accomplice did the challenge
    other.offer(img, face_at(cx=100), 0.5, acting=False, done=True)
    assert other.check(FakeMatcher(), probe) is False  # type: ignore[arg-type]
    assert other.to_dict()["cosine"]["before"] == 0.0
    none = IdentityCheck(0.5)
    assert none.check(FakeMatcher(), probe) is False  # type: ignore[arg-type]  # nothing kept: not proven


def test_challenge_plan_is_random_and_bounded() -> None:
    cfg = SessionConfig(blinks_min=1, blinks_max=2, head_turn=True)
    plans = {tuple(challenge_plan(cfg)) for _ in range(200)}  # the CSPRNG
    assert all(p.count("blink") in (1, 2) and sum(x in ("left", "right") for x in p) == 1 for p in plans)
    assert len(plans) == 10  # 2 sides x (1 blink: turn before/after; 2 blinks: before/between/after)
    seeded = SessionConfig(seed=7, blinks_max=2, head_turn=True)
    assert challenge_plan(seeded) == challenge_plan(seeded)
    assert challenge_plan(SessionConfig(), random.Random(1)) == ["blink"]


def _blink(lids: EyelidDeformation, openness: list[float], fps: float = 30.0) -> tuple[float, float]:
    t = 0.0
    for i, o in enumerate([1.0] * 20 + openness + [1.0] * 5):
        t = i / fps
        lids.update(face_at(lid=o), t)
    closed_at = (20 + int(np.argmin(openness))) / fps
    return closed_at, t


def test_real_blink_signature_passes_and_a_jump_does_not() -> None:
    real = EyelidDeformation(0.25)
    assert real.signature(*_blink(real, [0.7, 0.3, 0.1, 0.2, 0.5, 0.8]))
    assert real.last is not None and real.last["partial_frames"] >= 2
    swap = EyelidDeformation(0.25)  # open, then shut for 5 frames, then open: a photo swap or a pasted warp
    assert not swap.signature(*_blink(swap, [0.1] * 5))
    assert swap.last is not None and "jumped back open" in swap.last["why"]


def test_parallax_separates_a_turning_head_from_a_turning_plane() -> None:
    base = np.asarray(face_at().landmarks)
    plane = np.asarray(face_at(cx=330, size=95).landmarks)  # moved and scaled: one homography explains it
    head = np.asarray(face_at(depth_turn=0.25).landmarks)  # depth-dependent shift: no homography does
    assert parallax(base, plane) < 0.005 < 0.02 < parallax(base, head)


def test_blink_before_the_response_window_is_not_an_answer() -> None:
    from terminal.session.liveness import PASSED, RUNNING, BlinkChallenge
    from tests.support.faces import flat_face as f

    cfg = SessionConfig(response_min_s=0.3)
    early = BlinkChallenge(cfg, 0.0)  # a blink 0.1 s after the prompt: a prepared video, not an answer
    assert [early.update(f(b), i / 30) for i, b in enumerate([0.1, 0.1, 0.1, 0.7, 0.1])][-1] == RUNNING
    late = BlinkChallenge(cfg, 0.0)
    seq = [0.1] * 12 + [0.7, 0.7] + [0.1] * 16  # closes at 0.4 s, then no other blink for blink_gap_s
    assert [late.update(f(b), i / 30) for i, b in enumerate(seq)][-1] == PASSED
