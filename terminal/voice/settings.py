"""Config section ``[voice]``: spoken prompts in Bahasa Indonesia (espeak-ng, cached WAV, ALSA)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from terminal.config.base import Section

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class VoiceConfig(Section):
    """Voice prompts; silently off when there is no audio device (``terminal diagnose`` reports it)."""

    enabled: bool = Field(False, description="speak the instructions, liveness prompts and results")
    voice: str = Field("id", pattern=r"^[A-Za-z0-9_+-]{1,40}$", description="espeak-ng voice (Indonesian: id)")
    english: bool = Field(False, description="after the Indonesian prompt, also say it in English")
    speed_wpm: int = Field(140, ge=80, le=300, description="speaking rate, words per minute (slow for elderly members)")
    volume: int = Field(100, ge=0, le=200, description="espeak-ng amplitude (100 = normal, 0 = silent)")
    quiet_hours: str | None = Field(
        None, description="HH:MM-HH:MM local time with quiet_volume instead (e.g. 21:00-06:00)"
    )
    quiet_volume: int = Field(30, ge=0, le=200, description="amplitude during quiet hours (0 = silent)")
    device: str = Field("default", pattern=r"^[A-Za-z0-9_:,=.-]{1,64}$", description="ALSA PCM (aplay -D)")
    repeat_after_s: float = Field(
        6.0, ge=0, le=120, description="say the same prompt again after this pause (0 = never)"
    )
    max_repeats: int = Field(2, ge=0, le=10, description="repeats of one prompt at most")
    cache_dir: Path | None = Field(None, description="rendered WAVs; default <terminal.state_dir>/voice")

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None and not _HOURS.match(v):
            raise ValueError("must be HH:MM-HH:MM, e.g. 21:00-06:00")
        return v
