"""One live face from challenge to capture: its track, its PAD frames and its identity frames, bound together.

The session asks this object three things: did the track break at this frame (restart the challenge), take
this gate-passing frame (PAD scoring, challenge frames for the identity check), and may the capture be matched
(PAD decision, identity consistency). The record's ``liveness.pad``, ``liveness.identity`` and
``liveness.track`` come from here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.session.identity import IdentityCheck
from terminal.session.tracker import FaceTrack, TrackLimits

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation
    from terminal.matching.decision import Matcher
    from terminal.pad.base import PadFusion
    from terminal.session.settings import SessionConfig

log = logging.getLogger(__name__)


class LiveFace:
    """Track continuity + passive PAD + identity consistency of the face doing the challenge."""

    def __init__(self, cfg: SessionConfig, pad: PadFusion | None, identity_min_cosine: float) -> None:
        self.track = FaceTrack(TrackLimits(lost_s=cfg.track_lost_s, gap_s=cfg.track_gap_s, jump=cfg.track_jump))
        self.pad = pad
        self.identity = IdentityCheck(identity_min_cosine)
        self.restarts: list[str] = []

    def broken(self, face: FaceObservation | None, n_faces: int, t: float) -> str | None:
        """Feed the frame to the tracker; the reason the track broke, or None."""
        reason = self.track.update(face, n_faces, t)
        if reason is not None:
            self.restarts.append(reason)
            self.reset()
        return reason

    def reset(self) -> None:
        """A new face: drop PAD scores and challenge frames (the tracker restarts by itself)."""
        if self.pad is not None:
            self.pad.reset()
        self.identity.reset()

    def offer(
        self,
        image: np.ndarray,
        face: FaceObservation,
        t: float,
        acting: bool,
        done: bool,
        sharpness: float | None = None,
    ) -> None:
        """A gate-passing frame of the tracked face: PAD may score it (if sharp enough); it may be a
        before/after challenge frame."""
        if self.pad is not None:
            self.pad.offer(image, face, sharpness)
        self.identity.offer(image, face, t, acting, done)

    def pad_reason(self) -> str | None:
        """Why PAD refuses the face (None: accepted or PAD off)."""
        if self.pad is None or self.pad.passed:
            return None
        score = self.pad.score
        if score is None and self.pad.soft:
            return f"presentation attack check had no frame sharp enough to score ({self.pad.soft} too soft)"
        if score is None:
            return "presentation attack check had no frame to score"
        soft = ", soft view" if self.pad.soft_scored else ""
        return f"presentation attack suspected (PAD score {score:.3f} < {self.pad.decision_threshold:.3f}{soft})"

    def same_identity(self, matcher: Matcher, probe: np.ndarray) -> bool:
        """Do the challenge frames show the captured face? (embeds the two kept frames)"""
        return self.identity.check(matcher, probe)

    def to_dict(self) -> dict[str, Any]:
        """``pad``, ``identity`` and ``track`` of the record's liveness part."""
        return {
            "pad": None if self.pad is None else self.pad.to_dict(),
            "identity": self.identity.to_dict(),
            "track": {"restarts": len(self.restarts), "reasons": self.restarts[-10:]},
        }
