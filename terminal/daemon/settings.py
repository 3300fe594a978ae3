"""Config section ``[daemon]``: how ``terminal run`` supervises the camera and starts sessions."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from terminal.config.base import Section


class DaemonConfig(Section):
    """Daemon behaviour: camera retries, idle and walk-up mode."""

    camera_retry_min_s: float = Field(1.0, gt=0, le=60, description="first delay before reopening a failed camera")
    camera_retry_max_s: float = Field(30.0, gt=0, le=600, description="retry delay cap (doubles per failure)")
    camera_down_grace_s: float = Field(
        300.0,
        ge=0,
        le=3600,
        description="a camera that keeps failing (errors, not hangs) is retried in-process "
        "this long while the watchdog is still fed; after that the pings stop and systemd restarts the service",
    )
    walkup_reference: Path | None = Field(
        None,
        description="walk-up mode: a reference template (JSON from 'terminal enroll'); a session starts "
        "when a face appears. Default: off, sessions start only on a 'verify' command",
    )
    walkup_check_s: float = Field(0.3, gt=0, le=10, description="walk-up: look for a face this often while idle")
    walkup_cooldown_s: float = Field(5.0, ge=0, le=600, description="walk-up: wait this long after a session")
    status_interval_s: float = Field(5.0, gt=0, le=600, description="how often STATUS= and health fields refresh")
    command_wait_s: float = Field(
        15.0,
        ge=0,
        le=600,
        description="a verify that arrives while the camera gives no frames (e.g. right after "
        "a start, before the first frame) waits this long before CAMERA_DOWN",
    )
    diagnose_min_interval_s: float = Field(
        10.0,
        ge=0,
        le=86400,
        description="an MQTT diagnose sooner than this after the last one is refused "
        "(RATE_LIMITED); one runs at a time (BUSY)",
    )
    diagnose_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="a diagnose running longer is reported overrun in health"
    )
    frame_budget_s: float = Field(
        0.01,
        gt=0,
        le=1,
        description="between two frames, the frame loop spends at most this on a diagnose's hardware calls",
    )
