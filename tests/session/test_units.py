"""Unit tests of the session's parts: debouncer, state table, liveness logic, capture buffer, record schema."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.analysis import codes as C
from terminal.analysis.landmarker import FaceObservation
from terminal.session.capture import BestFrames, SteadyRun
from terminal.session.guidance import GuidanceDebouncer
from terminal.session.liveness import FAILED, PASSED, RUNNING, BlinkChallenge, LivenessCheck, TurnChallenge
from terminal.session.schema import RESULT_SCHEMA
from terminal.session.settings import SessionConfig
from terminal.session.states import SessionError, State, StateMachine
from terminal.session.tally import QualityTally

REPO = Path(__file__).resolve().parents[2]


def face(blink: float = 0.05, yaw: float = 0.0) -> FaceObservation:
    """A FaceObservation with given eyeBlink scores and yaw (landmarks irrelevant here)."""
    return FaceObservation(
        landmarks=np.zeros((478, 3), np.float32),
        blendshapes={"eyeBlinkLeft": blink, "eyeBlinkRight": blink},
        matrix=np.eye(4),
        bbox=(0, 0, 1, 1),
        yaw=yaw,
        pitch=0.0,
        roll=0.0,
        inter_eye_px=60.0,
    )


def test_debouncer_holds_and_confirms() -> None:
    d = GuidanceDebouncer(hold_s=1.2, confirm_s=0.25)
    assert d.update("TOO_DARK", 0.0) is None  # not yet wanted long enough
    ev = d.update("TOO_DARK", 0.3)
    assert ev is not None and ev.code == "TOO_DARK" and ev.text["id"].startswith("Mendekat")
    assert d.update("POSE_YAW", 0.4) is None and d.update("POSE_YAW", 1.0) is None  # held 1.2 s
    assert d.update("POSE_YAW", 1.6).code == "POSE_YAW"  # type: ignore[union-attr]
    assert d.update("MATCH", 1.61, urgent=True).code == "MATCH"  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["TOO_DARK", "POSE_YAW", "BLURRY", None]), min_size=1, max_size=200))
def test_debouncer_never_flickers(wishes: list[str | None]) -> None:
    d = GuidanceDebouncer(hold_s=1.2, confirm_s=0.25)
    for i, w in enumerate(wishes):
        d.update(w, i / 30)
    times = [e.t for e in d.history]
    assert all(b - a >= 1.2 - 1e-9 for a, b in itertools.pairwise(times))
    assert all(a.code != b.code for a, b in zip(d.history, d.history[1:], strict=False))


def test_state_table() -> None:
    m = StateMachine()
    assert m.go(State.SEARCHING, 0.0) and not m.go(State.SEARCHING, 0.1)
    with pytest.raises(SessionError):
        m.go(State.MATCHING, 0.2)  # cannot match without guiding and capturing
    m.go(State.DONE, 0.3)
    with pytest.raises(SessionError):
        m.go(State.SEARCHING, 0.4)


def run_blink(scores: list[float | None], fps: float = 24.0, **cfg: float) -> tuple[str, BlinkChallenge]:
    c = BlinkChallenge(SessionConfig(**cfg), 0.0)  # type: ignore[arg-type]
    status = RUNNING
    for i, s in enumerate(scores):
        status = c.update(None if s is None else face(s), i / fps)
        if status != RUNNING:
            break
    return status, c


def test_blink_needs_close_then_open() -> None:
    assert run_blink([0.1] * 5 + [0.7] * 3 + [0.1] * 14)[0] == PASSED  # reopened, then blink_gap_s (0.5 s) still
    assert run_blink([0.1] * 5 + [0.7] * 3 + [0.1] * 8)[0] == RUNNING  # reopened: an extra blink may still come
    assert run_blink([0.1] * 5 + [0.7] * 3)[0] == RUNNING  # closed, not yet reopened
    assert run_blink([0.7] * 3 + [0.1] * 5)[0] == RUNNING  # closed from the start is not a blink
    assert run_blink([0.1] * 5 + [0.3] * 3 + [0.1] * 3)[0] == RUNNING  # a squint, below 0.35
    assert run_blink([0.28] * 5 + [0.42] * 3 + [0.28] * 3)[0] == RUNNING  # 0.42 is not 0.2 above baseline 0.28
    assert run_blink([0.1] * 5 + [0.7] * 72 + [0.1] * 3)[0] == RUNNING  # 3 s shut is not a blink
    status, c = run_blink([0.1] * 200)
    assert status == FAILED and c.result.detail["reason"].startswith("no blink")


def test_turn_respects_side_and_mirroring() -> None:
    cfg = SessionConfig(
        head_turn=True, turn_min_parallax=0.0, response_min_s=0.0
    )  # side logic (parallax: test_liveface)
    for mirrored, sign in ((False, 1.0), (True, -1.0)):
        t = TurnChallenge(cfg, 0.0, "left", mirrored=mirrored)
        yaws = [0.0] * 3 + [sign * 15.0]
        assert [t.update(face(yaw=y), i / 24) for i, y in enumerate(yaws)][-1] == PASSED
        wrong = TurnChallenge(cfg, 0.0, "left", mirrored=mirrored)
        assert [wrong.update(face(yaw=y), i / 24) for i, y in enumerate([0.0] * 3 + [-sign * 15.0])][-1] == RUNNING


def test_liveness_runs_the_plan_in_order() -> None:
    cfg = SessionConfig(head_turn=True, passive=False, prompt_delay_s=(0.0, 0.0))
    check = LivenessCheck(cfg, 0.0, ["blink", "left"])
    assert check.instruction == C.LIVENESS_BLINK
    for i, s in enumerate([0.1] * 6 + [0.7] * 2 + [0.1] * 14):
        check.update(face(s), i / 24)
    assert check.instruction == C.LIVENESS_TURN_LEFT and check.outcome == RUNNING
    first = LivenessCheck(cfg, 0.0, ["right", "blink"])
    assert first.instruction == C.LIVENESS_TURN_RIGHT  # the plan's order (drawn from the CSPRNG) is kept
    plans = {tuple(LivenessCheck(cfg, 0.0).plan) for _ in range(50)}
    assert {p for p in plans if "left" in p} and {p for p in plans if "right" in p}  # a video guesses wrong


def test_best_frames_keeps_top_k() -> None:
    b = BestFrames(3)
    img = np.zeros((2, 2, 3), np.uint8)
    for i, q in enumerate([0.5, 0.9, 0.6, 0.95, 0.55, 0.9]):
        b.offer(q, i, img, face())
    assert [c.quality for c in b.best()] == [0.95, 0.9, 0.9]
    assert [c.t for c in b.best()] == [3, 1, 5]  # the earlier of the equal 0.9s ranks first
    assert b.seen == 6
    b.clear()
    assert len(b) == 0
    s = SteadyRun(3)
    assert [s.update(p) for p in (True, True, False, True, True, True)] == [False, False, False, False, False, True]


def test_tally_summary() -> None:
    t = QualityTally()
    for i in range(100):
        t.add([C.TOO_DARK] if i < 72 else [], i >= 72, 1, 0.2)
    assert t.summary(light_at_max=True) == "72% of frames too dark, light at maximum"
    assert t.to_dict()["counts"] == {C.TOO_DARK: 72} and t.to_dict()["passed_frames"] == 28


def test_schema_is_valid_and_documented() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(RESULT_SCHEMA)
    doc = (REPO / "docs" / "result-schema.md").read_text()
    block = doc.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == RESULT_SCHEMA, "docs/result-schema.md is stale: run python -m terminal.wire_docs"


def test_config_keys_in_example() -> None:
    text = (REPO / "config.example.toml").read_text()
    section = text.split("[session]", 1)[1].split("\n[", 1)[0]
    for key in SessionConfig.model_fields:
        if key not in ("seed", "plan"):  # for tests and evaluations only
            assert f"{key} =" in section, key
