"""The one typed config schema of the terminal, validated at start (like Frigate's FrigateConfig)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from terminal.analysis.settings import QualityConfig
from terminal.config.base import Section
from terminal.daemon.settings import DaemonConfig
from terminal.kiosk.settings import KioskConfig
from terminal.light.settings import LightConfig
from terminal.matching.settings import MatchingConfig
from terminal.pad.settings import PadConfig
from terminal.report.settings import MqttConfig, OutboxConfig
from terminal.security.settings import SecurityConfig
from terminal.session.settings import SessionConfig
from terminal.voice.settings import VoiceConfig


class TerminalSection(Section):
    """Identity and local state of this terminal."""

    id: str = Field(
        "terminal-dev", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="unique terminal id, used in MQTT topics"
    )
    state_dir: Path = Field(Path("/var/lib/terminal"), description="outbox and other state (systemd StateDirectory=)")
    keep_images: bool = Field(
        False,
        description="privacy: keep each session's best frame under "
        "<state_dir>/captures (owner-only, never sent); off by default",
    )


class CameraConfig(Section):
    """Which frame source to use and how to configure it."""

    backend: Literal["picamera2", "opencv", "replay"] = "replay"
    source: str = Field("", description="replay: recording/folder/video path; opencv: device index or video path")
    width: int = Field(640, ge=64, le=4096)
    height: int = Field(480, ge=64, le=4096)
    fps: float = Field(
        30.0,
        gt=0,
        le=120,
        description="frame rate; unset: 15 on a Pi 4, 30 on a Pi 5 and elsewhere "
        "(terminal.pimodel, docs/benchmarks.md)",
    )
    flicker_hz: Literal[0, 50, 60] = Field(50, description="mains frequency for anti-flicker (Indonesia: 50)")
    realtime: bool = Field(False, description="replay: pace frames at their recorded times")
    loop: bool = Field(False, description="replay: start again at the end")
    hflip: bool = False
    vflip: bool = False

    @model_validator(mode="before")
    @classmethod
    def _fps_for_this_pi(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fps" not in data:  # not set in the file: what this Pi model sustains
            from terminal.pimodel import default_fps

            data = {**data, "fps": default_fps()}
        return data


class ModelsConfig(Section):
    """Where model files live (env TERMINAL_MODELS_DIR overrides) and which ones to use."""

    dir: Path | None = Field(None, description="directory holding the files listed in models/manifest.json")
    landmarker: str = "face_landmarker"
    embedder: str = "mobilefacenet_sirius_128d_fp16"


class LoggingConfig(Section):
    """Log level of the daemon (the CLI's --log-level wins)."""

    level: Literal["debug", "info", "warning", "error"] = "info"


class Config(Section):
    """The whole configuration file."""

    terminal: TerminalSection = TerminalSection()
    camera: CameraConfig = CameraConfig()
    models: ModelsConfig = ModelsConfig()
    quality: QualityConfig = QualityConfig()
    light: LightConfig = LightConfig()
    matching: MatchingConfig = MatchingConfig()
    session: SessionConfig = SessionConfig()
    pad: PadConfig = PadConfig()
    mqtt: MqttConfig = MqttConfig()
    outbox: OutboxConfig = OutboxConfig()
    security: SecurityConfig = SecurityConfig()
    daemon: DaemonConfig = DaemonConfig()
    kiosk: KioskConfig = KioskConfig()
    voice: VoiceConfig = VoiceConfig()
    logging: LoggingConfig = LoggingConfig()
