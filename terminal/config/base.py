"""The base of every config section: typed, strict, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section; unknown keys and wrong types are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)
