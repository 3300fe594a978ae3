"""Fixtures of the session tests: config, matcher, references and a fresh gate per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from terminal.analysis.gate import QualityGate
from terminal.config import Config
from terminal.config.loader import config_from_dict
from terminal.matching.decision import Matcher
from terminal.matching.enroll import enroll_images
from terminal.matching.factory import build_matcher
from terminal.matching.probe import FaceFinder, make_finder
from terminal.matching.template import Template
from terminal.session import SessionRequest, VerificationSession
from tests.support.shared import data

# The Yale images are greyscale research shots: the glasses check reads colour cues and flags most of them
# (measured: 8 of 10 'normal' shots), so the session tests on Yale skip it; everything else runs.
YALE_SKIP = ("OCCLUDED_GLASSES",)
# sirius fp16 on the shared sample: 0.36 % false accepts at 0.45, no false rejects up to 0.50 (PROVENANCE.md).
# Fixed here so the tests do not depend on whichever calibration is shipped.
TEST_THRESHOLD = 0.45
# A recording cannot answer a random prompt: live clips run with the plan their recording answers (one blink,
# prompted at once), stated in each test; attacks keep the random default plan (1-2 blinks after 0.3-1.2 s).
RECORDED = {"plan": ("blink",), "prompt_delay_s": (0.0, 0.0)}


def session_config(pad: dict[str, Any] | None = None, **session: Any) -> Config:
    """The default config with ``[session]`` (and ``[pad]``) overrides."""
    return config_from_dict({"matching": {"threshold": TEST_THRESHOLD}, "session": session, "pad": pad or {}})


@pytest.fixture(scope="session")
def cfg() -> Config:
    """Default config with the test threshold."""
    return session_config()


@pytest.fixture(scope="session")
def matcher(cfg: Config) -> Matcher:
    """The real TFLite matcher."""
    return build_matcher(cfg)


@pytest.fixture(scope="session")
def finder(cfg: Config) -> Iterator[FaceFinder]:
    """Landmarker-only face finder for enrolling reference images."""
    f = make_finder(cfg, use_gate=False)
    yield f
    f.close()


@pytest.fixture(scope="session")
def yale_ref(matcher: Matcher, finder: FaceFinder) -> Callable[[int], Template]:
    """A reference template of Yale subject N from three shots the clips never use."""
    cache: dict[int, Template] = {}

    def make(subject: int) -> Template:
        if subject not in cache:
            paths = [data(f"yalefaces/subject{subject:02d}/{c}.jpg") for c in ("happy", "centerlight", "surprised")]
            cache[subject] = enroll_images(paths, matcher, finder)[0]
        return cache[subject]

    return make


@pytest.fixture
def make_session(
    cfg: Config, matcher: Matcher
) -> Iterator[Callable[..., tuple[VerificationSession, list[dict[str, Any]]]]]:
    """Build a session with a fresh video-mode gate; returns (session, events)."""
    gates: list[QualityGate] = []

    def make(
        reference: Template,
        config: Config | None = None,
        skip: tuple[str, ...] = YALE_SKIP,
        request_id: str = "req-1",
        **kw: Any,
    ) -> tuple[VerificationSession, list[dict[str, Any]]]:
        c = config or cfg
        gate = QualityGate.from_config(c, mode="video", skip=skip)
        gates.append(gate)
        events: list[dict[str, Any]] = []
        session = VerificationSession.from_config(
            c, SessionRequest(request_id, reference), gate, matcher, emit=events.append, **kw
        )
        return session, events

    yield make
    for g in gates:
        g.close()
