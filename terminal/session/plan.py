"""The liveness challenge plan: what is asked (how many blinks, which head turn, in which order) and when.

Everything unpredictable is drawn from the operating system's CSPRNG (``secrets.SystemRandom``), never from the
request id or the clock: the number of blinks in ``[blinks_min, blinks_max]`` (1 or 2 by default), with
``head_turn`` a side and its place in the order, and the delay before the first prompt in ``prompt_delay_s``
(a recording cannot know when the prompt comes). ``[session] seed`` fixes the draws (tests, replays) and
``[session] plan`` fixes the plan itself (evaluating recordings, which cannot answer a random prompt).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.session.settings import SessionConfig

# What a challenge (or the whole check) reports per frame. RESTART: the answer was not the one asked (more or
# fewer blinks than prompted): the member is prompted again after a fresh delay, up to ``challenge_restarts``.
RUNNING, PASSED, FAILED, RESTART = "running", "passed", "failed", "restart"


@dataclass
class ChallengeResult:
    """What one challenge saw: kind, outcome, when it started and ended, and its measured values."""

    kind: str
    outcome: str = RUNNING
    started: float = 0.0
    ended: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (numbers only, nothing biometric)."""
        return {
            "kind": self.kind,
            "outcome": self.outcome,
            "duration_s": None if self.ended is None else round(self.ended - self.started, 3),
            **self.detail,
        }


def plan_rng(cfg: SessionConfig) -> random.Random:
    """The generator of the draws: the OS CSPRNG, or a seeded ``random.Random`` when ``seed`` is set."""
    return random.Random(cfg.seed) if cfg.seed is not None else secrets.SystemRandom()


def challenge_plan(cfg: SessionConfig, rng: random.Random | None = None) -> list[str]:
    """The challenge sequence: ``blink`` n times and, when enabled, one ``left``/``right`` turn, in random order."""
    if cfg.plan is not None:
        return list(cfg.plan)
    rng = rng or plan_rng(cfg)
    plan = ["blink"] * rng.randint(cfg.blinks_min, max(cfg.blinks_min, cfg.blinks_max))
    if cfg.head_turn:
        plan.insert(rng.randint(0, len(plan)), rng.choice(("left", "right")))
    return plan


def prompt_delay(cfg: SessionConfig, rng: random.Random) -> float:
    """Seconds from the start of the challenge (or a restart) to the first prompt, uniform in ``prompt_delay_s``."""
    lo, hi = cfg.prompt_delay_s
    return lo if hi <= lo else rng.uniform(lo, hi)


def steps(plan: list[str]) -> list[tuple[str, int]]:
    """The plan as prompts: consecutive blinks are one prompt ("blink twice"), a turn is one prompt."""
    out: list[tuple[str, int]] = []
    for kind in plan:
        if kind == "blink" and out and out[-1][0] == "blink":
            out[-1] = ("blink", out[-1][1] + 1)
        else:
            out.append((kind, 1))
    return out
