"""Config section ``[matching]``: embedder runtime and decision threshold."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from terminal.config.base import Section


class MatchingConfig(Section):
    """Embedder and decision settings."""

    runtime: Literal["auto", "litert", "tflite"] = "auto"
    threads: int = Field(2, ge=1, le=8)
    target_fmr: float = Field(1e-3, gt=0, lt=1)
