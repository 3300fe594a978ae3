"""Config section ``[quality]``: the quality gate's thresholds (see docs/quality.md for their sources)."""

from __future__ import annotations

from pydantic import Field

from terminal.config.base import Section


class QualityConfig(Section):
    """Thresholds of the quality gate."""

    max_faces: int = Field(1, ge=1, le=10, description="more faces than this fails MULTIPLE_FACES")
    max_yaw_deg: float = Field(15.0, gt=0, le=90)
    max_pitch_deg: float = Field(15.0, gt=0, le=90)
    max_roll_deg: float = Field(10.0, gt=0, le=90)
