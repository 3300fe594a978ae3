"""One tracked face: landmark-box continuity from frame to frame, on frame time.

The liveness challenge and the capture must be performed by the same face. A second face in view, a face that
vanishes (even for a fraction of a second), a gap between frames or a face box that jumps or changes size
faster than a head can move breaks the track, and the session starts the challenge again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from terminal.analysis.landmarker import FaceObservation

log = logging.getLogger(__name__)

SECOND_FACE, FACE_LOST, FRAME_GAP, FACE_JUMPED = "second_face", "face_lost", "frame_gap", "face_jumped"


@dataclass(frozen=True)
class TrackLimits:
    """How much a face may change between frames and still be the same tracked face."""

    lost_s: float = 0.2  # a face missing longer than this is a new face when it returns
    gap_s: float = 0.35  # frames further apart than this (dropped frames, a paused stream) break the track
    jump: float = 0.3  # box centre moving more than this fraction of the box width between two frames
    resize: float = 1.3  # box width changing by more than this factor between two frames


class FaceTrack:
    """Feeds on each frame's face (or None) and face count; ``update`` returns why the track broke, or None."""

    def __init__(self, limits: TrackLimits | None = None) -> None:
        self.limits = limits or TrackLimits()
        self._box: tuple[float, float, float, float] | None = None
        self._last_face_t: float | None = None
        self._last_t: float | None = None
        self.breaks = 0

    @property
    def active(self) -> bool:
        """True while a face is being tracked."""
        return self._box is not None

    def update(self, face: FaceObservation | None, n_faces: int, t: float) -> str | None:
        """Feed one frame; the reason the track broke at this frame (then it restarts on the next face), or None."""
        lim = self.limits
        prev_t, self._last_t = self._last_t, t
        reason: str | None = None
        if self._box is not None:
            if prev_t is not None and t - prev_t > lim.gap_s:
                reason = FRAME_GAP
            elif n_faces > 1:
                reason = SECOND_FACE
            elif face is None:
                if self._last_face_t is not None and t - self._last_face_t > lim.lost_s:
                    reason = FACE_LOST
            else:
                reason = self._moved(face)
        if reason is not None:
            self.breaks += 1
            log.debug("track broken at %.3f: %s", t, reason)
            self._box = None
            self._last_face_t = None
            return reason
        if face is not None and n_faces == 1:
            self._box = face.bbox
            self._last_face_t = t
        return None

    def _moved(self, face: FaceObservation) -> str | None:
        assert self._box is not None
        ax0, ay0, ax1, ay1 = self._box
        bx0, by0, bx1, by1 = face.bbox
        wa, wb = max(ax1 - ax0, 1.0), max(bx1 - bx0, 1.0)
        dx = (bx0 + bx1 - ax0 - ax1) / 2
        dy = (by0 + by1 - ay0 - ay1) / 2
        if (dx * dx + dy * dy) ** 0.5 > self.limits.jump * wa:
            return FACE_JUMPED
        if max(wa / wb, wb / wa) > self.limits.resize:
            return FACE_JUMPED
        return None

    def reset(self) -> None:
        """Forget the tracked face."""
        self._box = None
        self._last_face_t = None
