"""Identity consistency: the face that performed the challenge is the face that was captured.

Frames of the challenge phase are kept (in memory, two at most): the last gate-passing frame before the blink
or turn began and the first one after it. When the session matches, both are embedded and compared with the
captured frames' embeddings; a cosine below the threshold fails the session with IDENTITY_MISMATCH.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.errors import TerminalError

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.matching.decision import Matcher

log = logging.getLogger(__name__)

IDENTITY_MISMATCH = "IDENTITY_MISMATCH"


@dataclass
class Shot:
    """One kept challenge-phase frame."""

    t: float
    image: np.ndarray
    face: FaceObservation


class IdentityCheck:
    """Keeps the frame before and the frame after the challenge action; compares them with the capture."""

    def __init__(self, min_cosine: float) -> None:
        self.min_cosine = min_cosine
        self.before: Shot | None = None
        self.after: Shot | None = None
        self.cosines: dict[str, float] = {}
        self.passed: bool | None = None

    def offer(self, image: np.ndarray, face: FaceObservation, t: float, acting: bool, done: bool) -> None:
        """A gate-passing frame of the challenge phase: before the action (eyes open) or after it (challenge done)."""
        if done:
            if self.after is None:
                self.after = Shot(t, image, face)
        elif not acting:
            self.before = Shot(t, image, face)  # the latest open-eyed frame before the action wins

    def reset(self) -> None:
        """A new challenge: forget the kept frames."""
        self.before = self.after = None
        self.cosines.clear()
        self.passed = None

    def check(self, matcher: Matcher, probe: np.ndarray) -> bool:
        """Compare the kept frames with the captured embeddings ``probe`` (n, d); True when every one agrees."""
        centre = probe.mean(axis=0)
        centre = centre / max(float(np.linalg.norm(centre)), 1e-12)
        self.cosines.clear()
        for name, shot in (("before", self.before), ("after", self.after)):
            if shot is None:
                continue
            try:
                emb = matcher.embed_face(shot.image, shot.face)
            except TerminalError as err:
                log.warning("identity: %s frame could not be embedded: %s", name, err)
                continue
            self.cosines[name] = float(np.dot(emb, centre))
        # No kept frame at all means the challenge was not performed by a tracked, gate-passing face.
        self.passed = bool(self.cosines) and min(self.cosines.values()) >= self.min_cosine
        self.before = self.after = None  # images are not needed any more
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        """The ``liveness.identity`` part of the record (cosines only, nothing biometric)."""
        return {
            "passed": self.passed,
            "threshold": round(self.min_cosine, 4),
            "cosine": {k: round(v, 4) for k, v in self.cosines.items()},
        }
