"""The blink challenge: exactly the asked number of real blinks, in one run, after the prompt.

A blink is a closure and reopening of both eyes in the blendshapes (eyeBlinkLeft/Right) that the eyelid
geometry accepts as real lids (eyelids.py). While more blinks are asked, the next may follow the last reopening
within ``blink_run_s`` (one *run*); the answer is the first run that starts ``response_min_s`` or more after the
prompt, with eyes seen open in between:

- a run of exactly the asked number, then ``blink_gap_s`` with no closure: passed;
- another closure within ``blink_gap_s`` of the asked blinks (a spontaneous extra blink, a blinking video):
  ``RESTART``, at once;
- a run that ends (``blink_run_s`` with no closure) with fewer blinks than asked: ``RESTART``;
- no complete run within ``challenge_time_s`` of the prompt: failed.

Closures before the window are ignored (people blink spontaneously while waiting). A blink the geometry refuses
is not counted and does not end or extend the run. The quiet ``blink_gap_s`` after the answer must be seen
whole: a frame without a usable face (gone, or failing the gate beyond what a blink causes) starts it again, so
an extra blink cannot hide in frames the check does not see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from terminal.analysis.codes import LIVENESS_BLINK, LIVENESS_BLINK_TWICE
from terminal.session.plan import FAILED, PASSED, RESTART, RUNNING, ChallengeResult

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.session.eyelids import EyelidDeformation
    from terminal.session.settings import SessionConfig


class BlinkChallenge:
    """Passes on a run of exactly ``count`` real blinks after the prompt at ``t0``.

    The closed threshold adapts to the member: at least ``blink_close`` and at least ``blink_rise`` above the
    open-eye baseline (some faces read 0.25 with eyes open), so at least two open frames must come first.
    """

    def __init__(self, cfg: SessionConfig, t0: float, lids: EyelidDeformation | None = None, count: int = 1) -> None:
        self.cfg = cfg
        self.lids = lids
        self.count = count
        self.code = LIVENESS_BLINK_TWICE if count == 2 else LIVENESS_BLINK
        self.result = ChallengeResult("blink", started=t0, detail={"asked": count})
        self._open_scores: list[float] = []
        self._closed_at: float | None = None
        self._open_in_window = False  # eyes seen open after the window opened: a closure there is an answer
        self._peak = 0.0
        self.seen = 0  # blinks of the current run
        self._last_open: float | None = None  # reopening of the run's last blink
        self.rejected = 0
        self.restart_reason: str | None = None

    @property
    def acting(self) -> bool:
        """True while the eyes are closed (a blink is under way)."""
        return self._closed_at is not None

    @property
    def started(self) -> bool:
        """True once a blink of the answer was counted (the challenge frames before it are fixed)."""
        return self.seen > 0

    @property
    def answered(self) -> bool:
        """True once the asked blinks are done (waiting ``blink_gap_s`` for an extra one)."""
        return self.seen >= self.count

    def interrupt(self) -> None:
        """A frame that failed the gate: a blink under way no longer counts."""
        self._closed_at = None

    def update(self, face: FaceObservation | None, t: float) -> str:
        """Feed one frame; returns running, passed, failed or restart."""
        if self.result.outcome != RUNNING:
            return self.result.outcome
        gap = self.cfg.blink_gap_s
        if self.answered and (face is None or not face.blendshapes):
            self._last_open = t  # the quiet after the answer is watched whole: an unseen frame starts it again
            return RUNNING
        if self._last_open is not None and self._closed_at is None:
            # Two windows (hostile review: a single 0.5 s one refused 6 of 7 members blinking twice at 0.6-0.9 s):
            # the asked run may take its time, the quiet after the answer is short.
            if self.answered and t - self._last_open >= gap:
                return self._end(PASSED, t, None)
            if not self.answered and t - self._last_open >= self.cfg.blink_run_s:
                return self._restart(t, f"{self.seen} blink(s) where {self.count} were asked")
        if t - self.result.started > self.cfg.challenge_time_s and not self.started:
            why = "no blink within the time limit"
            if self.rejected and self.lids is not None and self.lids.last:
                why = f"blink not like a real one: {self.lids.last.get('why')}"
            return self._end(FAILED, t, why)
        if face is None or not face.blendshapes:
            return RUNNING
        score = min(face.blendshapes.get("eyeBlinkLeft", 0.0), face.blendshapes.get("eyeBlinkRight", 0.0))
        self._peak = max(self._peak, score)
        baseline = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        in_window = t - self.result.started >= self.cfg.response_min_s
        if self._closed_at is None:
            if (
                baseline is not None
                and len(self._open_scores) >= 2
                and score >= max(self.cfg.blink_close, baseline + self.cfg.blink_rise)
            ):
                if in_window and self._open_in_window:  # earlier is not an answer to the prompt
                    if self.answered:
                        return self._restart(t, f"more than {self.count} blink(s)")
                    self._closed_at = t
            elif baseline is None or score < baseline + self.cfg.blink_rise:
                self._open_scores.append(score)
                self._open_in_window = self._open_in_window or in_window
            return RUNNING
        assert baseline is not None
        if score <= baseline + self.cfg.blink_open_margin:
            closed_at, self._closed_at = self._closed_at, None
            if t - closed_at > self.cfg.blink_max_closed_s:
                return RUNNING  # eyes were shut too long to be a blink: wait for a real one
            if self.lids is not None and not self.lids.signature(closed_at, t):
                self.rejected += 1
                return RUNNING
            self.seen += 1
            self._last_open = t
            self.result.detail["closed_s"] = round(t - closed_at, 3)  # of the last blink
        return RUNNING

    def _restart(self, t: float, why: str) -> str:
        self.restart_reason = why
        return self._end(RESTART, t, why)

    def _end(self, outcome: str, t: float, reason: str | None) -> str:
        self.result.outcome, self.result.ended = outcome, t
        base = float(np.percentile(self._open_scores, 20)) if self._open_scores else None
        self.result.detail.update(
            {
                "seen": self.seen,
                "baseline": None if base is None else round(base, 3),
                "peak": round(self._peak, 3),
                "rejected_blinks": self.rejected,
            }
        )
        if self.lids is not None and self.lids.last is not None:
            self.result.detail["signature"] = dict(self.lids.last)
        if reason:
            self.result.detail["reason"] = reason
        return outcome
