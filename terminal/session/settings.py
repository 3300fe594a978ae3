"""Config section ``[session]``: timeouts, guidance debounce and liveness."""

from __future__ import annotations

from pydantic import Field

from terminal.config.base import Section


class SessionConfig(Section):
    """How a verification session runs."""

    timeout_s: float = Field(30.0, gt=0, le=600)
    liveness: bool = True
