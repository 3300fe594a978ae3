"""Unit tests of the unpredictable challenge: plan and prompt-delay draws, the prompt, the exact-count blink rule."""

from __future__ import annotations

import random
import secrets
from collections import Counter

import pytest

from terminal.analysis import codes as C
from terminal.analysis.landmarker import FaceObservation
from terminal.session.blink import BlinkChallenge
from terminal.session.liveness import FAILED, PASSED, RESTART, RUNNING, LivenessCheck
from terminal.session.plan import challenge_plan, plan_rng, prompt_delay, steps
from terminal.session.settings import SessionConfig
from tests.support.faces import flat_face

FPS = 30.0


def face(blink: float) -> FaceObservation:
    """A FaceObservation with both eyeBlink scores at ``blink`` (landmarks irrelevant: passive off)."""
    return flat_face(blink)


def timeline(seconds: float, blinks: list[float], shut_s: float = 0.1) -> list[tuple[float, float]]:
    """(t, eyeBlink score) at 30 fps: eyes open (0.05) with a closure of ``shut_s`` starting at each time."""
    out = []
    for i in range(round(seconds * FPS)):
        t = i / FPS
        out.append((t, 0.8 if any(b <= t < b + shut_s for b in blinks) else 0.05))
    return out


def run(check: LivenessCheck | BlinkChallenge, seq: list[tuple[float, float]]) -> tuple[str, float]:
    """Feed the timeline until the check ends; (status, time)."""
    status = RUNNING
    for t, s in seq:
        status = check.update(face(s), t)
        if status not in (RUNNING,):
            return status, t
    return status, seq[-1][0]


CFG = SessionConfig(passive=False, prompt_delay_s=(0.0, 0.0))


def test_default_plan_is_one_or_two_blinks_from_the_os_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = SessionConfig()
    assert (cfg.blinks_min, cfg.blinks_max, cfg.head_turn) == (1, 2, False)
    assert isinstance(plan_rng(cfg), secrets.SystemRandom)  # the OS CSPRNG, not a seeded Mersenne twister
    counts = Counter(tuple(challenge_plan(cfg)) for _ in range(400))
    assert set(counts) == {("blink",), ("blink", "blink")}
    assert 140 <= counts[("blink",)] <= 260  # about half each (p of leaving this band by chance < 1e-9)
    # Nothing about the request enters the draw: a session's plan comes from LivenessCheck alone.
    drawn: list[str] = []
    real = secrets.SystemRandom.randint
    monkeypatch.setattr(secrets.SystemRandom, "randint", lambda self, a, b: drawn.append("x") or real(self, a, b))
    LivenessCheck(cfg, 0.0)
    assert drawn  # the session's plan went through SystemRandom


def test_seed_fixes_the_plan_and_the_delay_and_plan_fixes_the_plan() -> None:
    seeded = SessionConfig(seed=7)
    a, b = LivenessCheck(seeded, 0.0), LivenessCheck(seeded, 0.0)
    assert (a.plan, a.delays) == (b.plan, b.delays)
    assert {tuple(LivenessCheck(SessionConfig(seed=s), 0.0).plan) for s in range(20)} == {("blink",), ("blink",) * 2}
    fixed = SessionConfig(plan=("blink", "blink"))
    assert all(challenge_plan(fixed) == ["blink", "blink"] for _ in range(20))
    assert steps(["blink", "blink", "left", "blink"]) == [("blink", 2), ("left", 1), ("blink", 1)]


def test_prompt_delay_is_drawn_in_range_and_the_prompt_waits_for_it() -> None:
    cfg = SessionConfig(prompt_delay_s=(0.3, 1.2))
    delays = [prompt_delay(cfg, secrets.SystemRandom()) for _ in range(300)]
    assert 0.3 <= min(delays) < 0.4 and 1.1 < max(delays) <= 1.2
    assert prompt_delay(SessionConfig(prompt_delay_s=(0.5, 0.5)), random.Random(1)) == 0.5
    check = LivenessCheck(SessionConfig(passive=False, seed=3, plan=("blink",)), 10.0)
    (d,) = check.delays
    check.update(face(0.05), 10.0)
    assert check.instruction == C.HOLD_STILL and not check.prompted
    check.update(face(0.05), 10.0 + d + 0.001)
    assert check.instruction == C.LIVENESS_BLINK and check.prompted
    with pytest.raises(ValueError, match="prompt_delay_s"):
        SessionConfig(prompt_delay_s=(1.0, 0.5))


def test_blinks_before_the_prompt_do_not_count() -> None:
    cfg = SessionConfig(passive=False, plan=("blink",), prompt_delay_s=(1.0, 1.0))
    # A blink at 0.5 s (before the prompt at 1.0 s) and none after: no answer.
    assert run(LivenessCheck(cfg, 0.0), timeline(8.0, [0.5]))[0] == FAILED
    # A blink 0.1 s after the prompt is too soon (response_min_s 0.15): not an answer either.
    assert run(LivenessCheck(cfg, 0.0), timeline(8.0, [1.1]))[0] == FAILED
    status, t = run(LivenessCheck(cfg, 0.0), timeline(8.0, [0.5, 1.5]))
    assert status == PASSED and 2.1 <= t <= 2.2  # reopened at 1.6 s, then blink_gap_s (0.5 s) without a blink


def test_exactly_the_asked_number_of_blinks() -> None:
    once = BlinkChallenge(CFG, 0.0, count=1)
    assert once.code == C.LIVENESS_BLINK
    assert run(once, timeline(4.0, [1.0]))[0] == PASSED
    twice = BlinkChallenge(CFG, 0.0, count=2)
    assert twice.code == C.LIVENESS_BLINK_TWICE
    assert run(twice, timeline(4.0, [1.0, 1.4]))[0] == PASSED  # gap 0.3 s: one run of two
    extra = BlinkChallenge(CFG, 0.0, count=1)
    status, t = run(extra, timeline(4.0, [1.0, 1.4]))  # a second blink 0.3 s after the asked one
    assert status == RESTART and t == pytest.approx(1.4, abs=0.04) and "more than 1" in str(extra.restart_reason)
    for apart in (0.6, 0.7, 0.9):  # a member blinking twice at a normal pace (start to start; hostile review)
        paced = BlinkChallenge(CFG, 0.0, count=2)
        assert run(paced, timeline(4.0, [1.0, 1.0 + apart]))[0] == PASSED, apart
    few = BlinkChallenge(CFG, 0.0, count=2)
    status, _ = run(few, timeline(4.0, [1.0, 2.5]))  # two single blinks 1.5 s apart do not answer "twice"
    assert status == RESTART and "1 blink(s) where 2" in str(few.restart_reason)


def test_a_spontaneous_blink_long_after_the_answer_is_fine() -> None:
    check = LivenessCheck(CFG.model_copy(update={"plan": ("blink",)}), 0.0)
    status, t = run(check, timeline(4.0, [1.0, 2.5]))
    assert status == PASSED and t < 2.5 and check.restarts == []


def test_spam_blinking_is_prompted_again_then_refused() -> None:
    cfg = CFG.model_copy(update={"plan": ("blink",), "challenge_restarts": 2})
    spam = [0.5 + 0.45 * k for k in range(30)]  # a blink every 0.45 s: every run is longer than asked
    check = LivenessCheck(cfg, 0.0)
    status, _ = run(check, timeline(14.0, spam))
    assert status == FAILED and len(check.restarts) == 3
    assert check.reason is not None and "not as asked 3 times" in check.reason
    rec = check.to_dict()
    assert rec["restarts"] == 3 and len(rec["prompt_delay_s"]) == 3
    assert [c["outcome"] for c in rec["challenges"]] == ["restart", "restart", "failed"]


def test_a_member_who_blinks_twice_is_prompted_again_with_the_same_count() -> None:
    cfg = CFG.model_copy(update={"plan": ("blink",), "prompt_delay_s": (0.4, 0.8)})
    check = LivenessCheck(cfg, 0.0)
    seq = timeline(6.0, [1.0, 1.3, 3.5])  # a double blink, then (after the new prompt) one blink
    restarted_at = None
    for t, s in seq:
        status = check.update(face(s), t)
        if check.restarted:
            restarted_at = t
            assert check.instruction == C.HOLD_STILL  # a fresh delay before the prompt comes again
        if status != RUNNING:
            break
    assert status == PASSED and restarted_at is not None and check.plan == ["blink"]
    assert len(check.delays) == 2 and check.to_dict()["restarts"] == 1


def test_the_quiet_after_the_answer_must_be_seen_whole() -> None:
    check = BlinkChallenge(CFG, 0.0, count=1)
    seq = timeline(4.0, [1.0])
    status = RUNNING
    for t, s in seq:
        unseen = 1.2 <= t < 1.5  # the face fails the gate right after the blink (an extra blink could hide there)
        status = check.update(None if unseen else face(s), t)
        if status != RUNNING:
            break
    assert status == PASSED and t >= 1.46 + CFG.blink_gap_s  # the quiet started again after the last unseen frame
