"""Config section ``[pad]``: the passive presentation-attack detection backend and its decision."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from terminal.config.base import Section


class PadConfig(Section):
    """Passive PAD (docs/liveness.md): which backend, how many frames, the calibrated threshold."""

    enabled: bool = Field(True, description="score frames with the PAD backend and require its decision")
    backend: Literal["minifasnet"] = Field("minifasnet", description="PAD backend (models from models/manifest.json)")
    models: tuple[str, ...] = Field(
        ("minifasnet_v2_2.7", "minifasnet_v1se_4.0"),
        min_length=1,
        description="manifest names of the PAD models; their live probabilities are averaged",
    )
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="fused live score at or above this is live; unset: the shipped "
        "calibration (terminal/pad/calibration.json), from `terminal calibrate pad`",
    )
    frames: int = Field(6, ge=1, le=60, description="gate-passing frames of a session scored and fused (mean)")
    every: int = Field(
        3, ge=1, le=30, description="score one passing frame in this many (spreads the cost and the views)"
    )
    min_sharpness: float = Field(
        1.10,
        ge=0,
        le=5,
        description="score only frames at least this sharp (the gate's BLURRY measure): defocus hides the screen "
        "texture PAD looks for (docs/liveness.md); 0 scores every gate-passing frame",
    )
    soft_view_sharpness: float = Field(
        1.15, ge=0, le=5, description="scored frames with a median sharpness below this are a soft view"
    )
    soft_view_threshold: float = Field(
        0.98,
        ge=0,
        le=1,
        description="a soft view must reach this fused score (or the calibrated threshold, if higher)",
    )
    runtime: Literal["auto", "litert", "tflite"] = Field("auto", description="TFLite runtime of the PAD models")
    threads: int = Field(1, ge=1, le=8, description="interpreter threads per PAD model")
