"""Config sections ``[mqtt]`` and ``[outbox]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from terminal.config.base import Section


class MqttConfig(Section):
    """Broker connection; the password comes from the environment or systemd credentials."""

    enabled: bool = True
    brokers: list[str] = Field(
        default_factory=lambda: ["mqtts://localhost:8883"],
        min_length=1,
        description="broker URLs tried in turn (failover): mqtt://host[:1883] or mqtts://host[:8883]",
    )
    protocol: Literal["5", "3.1.1"] = Field("5", description="MQTT protocol version")
    topic_prefix: str = Field("terminal/{terminal_id}", description="{terminal_id} is replaced")
    username: str | None = Field(None, description="broker user; default: none (anonymous)")
    password_file: Path | None = Field(
        None,
        description="file holding the password; default: $TERMINAL_MQTT_PASSWORD, else "
        "$CREDENTIALS_DIRECTORY/mqtt_password (systemd LoadCredential=)",
    )
    ca_file: Path | None = Field(None, description="CA bundle that signs the broker certificate; default: system CAs")
    client_cert: Path | None = Field(None, description="optional client certificate (PEM) for mutual TLS")
    client_key: Path | None = Field(None, description="key of client_cert (PEM)")
    tls_insecure: bool = Field(False, description="DANGER: skip broker certificate and hostname checks")
    allow_insecure: bool = Field(
        False,
        description="lab/demo only: allow anonymous, cleartext (mqtt://) and "
        "tls_insecure, logged as WARNING at every start (refused otherwise)",
    )
    keepalive_s: int = Field(30, ge=5, le=3600)
    connect_timeout_s: float = Field(10.0, gt=0, le=120, description="TCP + TLS + CONNACK timeout per attempt")
    session_expiry_s: int = Field(
        3600, ge=0, le=7 * 86400, description="broker keeps the command subscription this long while offline"
    )
    backoff_min_s: float = Field(0.5, gt=0, le=60, description="first reconnect delay")
    backoff_max_s: float = Field(60.0, gt=0, le=3600, description="reconnect delay cap (doubles per failure, jittered)")
    max_inflight: int = Field(20, ge=1, le=1000, description="results published but not yet acknowledged")
    reject_retry_s: float = Field(
        60.0, gt=0, le=86400, description="hold a result the broker refused (e.g. not authorised) this long"
    )
    stop_flush_s: float = Field(5.0, ge=0, le=120, description="on clean stop, try this long to empty the outbox")
    health_interval_s: float = Field(60.0, ge=1, le=86400, description="period of the health message")
    max_command_bytes: int = Field(65536, ge=256, le=16 * 1024 * 1024, description="larger commands are refused")
    command_dedup_ttl_s: float = Field(
        3600.0,
        ge=1,
        le=7 * 86400,
        description="remember request ids at least this long (in fact the longer of "
        "this and deadline_horizon_s, and always until their deadline)",
    )
    deadline_horizon_s: float = Field(
        86400.0,
        ge=60,
        le=30 * 86400,
        description="a command deadline further ahead than this is refused (INVALID); "
        "request ids are kept at least this long",
    )
    max_request_ids: int = Field(
        200_000,
        ge=1000,
        le=10_000_000,
        description="unexpired request ids stored at most; beyond, commands get OVERLOADED",
    )
    link_down_alarm_s: float = Field(
        300.0,
        ge=1,
        le=86400,
        description="the link down (or its thread stalled) this long: CRITICAL in the "
        "journal, alarm 'link_down' in health and STATUS=",
    )
    require_deadline: bool = Field(True, description="a verify command without a deadline is refused")

    @field_validator("brokers")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        from terminal.report.urls import parse_broker_url

        for url in v:
            parse_broker_url(url)  # raises ValueError with the reason
        return v

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v or v.startswith("/") or v.endswith("/") or any(c in v for c in "#+\0"):
            raise ValueError("must be non-empty, without leading/trailing '/', '#', '+' or NUL")
        return v

    @model_validator(mode="after")
    def _cert_pair(self) -> MqttConfig:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must be >= backoff_min_s")
        return self


class OutboxConfig(Section):
    """The durable result outbox."""

    path: Path | None = Field(None, description="SQLite file; default <terminal.state_dir>/outbox.sqlite")
    max_rows: int = Field(10000, ge=10, description="results kept while the broker is unreachable")
    max_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024, description="payload bytes kept while unreachable")
    policy: Literal["refuse_new", "drop_oldest"] = Field(
        "refuse_new",
        description="when full: refuse new sessions (no result is ever lost) or drop the oldest with an alarm",
    )
    reserve_rows: int = Field(
        50, ge=1, le=100000, description="refuse_new: results still accepted past max_rows (sessions already running)"
    )
    warn_fraction: float = Field(0.8, gt=0, le=1, description="health alarm 'outbox_high' from this fill level")
