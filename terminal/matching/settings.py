"""Config section ``[matching]``: embedder runtime, score fusion and the calibrated decision threshold."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from terminal.config.base import Section

Fusion = Literal["mean_embedding", "mean_cosine", "max_cosine"]


class MatchingConfig(Section):
    """Embedder and decision settings (see docs/matching.md for how the threshold was calibrated)."""

    runtime: Literal["auto", "litert", "tflite"] = Field(
        "auto", description="TFLite runtime: auto tries ai_edge_litert, then tflite_runtime"
    )
    # One thread by default: the embedder runs only for the best few frames of a session, and a second XNNPACK
    # worker spin-waits after each invoke, taking a core from the landmarker and the camera (bench_match.py).
    threads: int = Field(1, ge=1, le=8, description="interpreter threads for the embedder")
    target_fmr: float = Field(
        1e-3,
        gt=0,
        lt=1,
        description="false-match rate the threshold is calibrated for; picks the entry of the shipped calibration",
    )
    threshold: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="cosine threshold from `terminal calibrate` for this terminal's model; unset: the shipped "
        "calibration of the configured model at target_fmr",
    )
    fusion: Fusion = Field(
        "mean_embedding",
        description="how several probe frames and reference images become one score (docs/matching.md)",
    )
    reference_dtype: Literal["float16", "float32"] = Field(
        "float16", description="dtype of embeddings written by `terminal enroll`"
    )
    gate_enroll: bool = Field(True, description="enrol only images the quality gate accepts")
