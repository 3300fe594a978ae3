"""Config sections ``[mqtt]`` and ``[outbox]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from terminal.config.base import Section


class MqttConfig(Section):
    """Broker connection; the password comes from the environment or systemd credentials."""

    enabled: bool = True
    brokers: list[str] = Field(default_factory=lambda: ["mqtts://localhost:8883"])
    protocol: Literal["5", "3.1.1"] = "5"
    topic_prefix: str = Field("terminal/{terminal_id}", description="{terminal_id} is replaced")
    username: str | None = None
    ca_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)


class OutboxConfig(Section):
    """The durable result outbox."""

    path: Path | None = Field(None, description="SQLite file; default <terminal.state_dir>/outbox.sqlite")
    max_rows: int = Field(10000, ge=10)
