"""Config section ``[session]``: timeouts, guidance debounce, capture and liveness."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from terminal.config.base import Section


class SessionConfig(Section):
    """How a verification session runs (all times are frame time, seconds)."""

    timeout_s: float = Field(30.0, gt=0, le=600, description="a session with no decision by then ends as timeout")
    liveness: bool = Field(True, description="require the liveness challenge before matching")
    # Guidance
    guidance_hold_s: float = Field(1.2, ge=0, le=10, description="a shown message stays at least this long")
    guidance_confirm_s: float = Field(
        0.25, ge=0, le=5, description="a new message must be wanted this long before it replaces the shown one"
    )
    languages: tuple[Literal["id", "en"], ...] = Field(
        ("id", "en"), min_length=1, description="languages of guidance text, first is primary"
    )
    # Capture
    steady_frames: int = Field(
        3, ge=1, le=60, description="consecutive passing frames before the face counts as steady"
    )
    best_k: int = Field(3, ge=1, le=10, description="best frames (by quality score) kept and matched")
    capture_frames: int = Field(5, ge=1, le=60, description="passing frames to collect before matching")
    capture_max_s: float = Field(
        3.0, gt=0, le=60, description="match with what is collected (at least one frame) after this long"
    )
    face_lost_s: float = Field(1.5, gt=0, le=30, description="no face this long goes back to searching")
    # Liveness: active challenge
    challenge_time_s: float = Field(6.0, gt=0, le=60, description="time limit of each liveness challenge")
    blinks_min: int = Field(1, ge=1, le=2, description="fewest blinks asked (the number is drawn from the CSPRNG)")
    blinks_max: int = Field(2, ge=1, le=2, description="most blinks asked (the prompt says how many: once, twice)")
    head_turn: bool = Field(
        False, description="also ask for a head turn to a random side, at a random place in the plan"
    )
    prompt_delay_s: tuple[float, float] = Field(
        (0.3, 1.2), description="[lo, hi]: the first prompt comes after a delay drawn from the CSPRNG in this range"
    )
    blink_gap_s: float = Field(
        0.5, gt=0, le=3, description="after the asked blinks, this long with no closure (another one: prompt again)"
    )
    blink_run_s: float = Field(
        1.2,
        gt=0,
        le=5,
        description="while more blinks are asked, the next may follow the last reopening this late (people blink "
        "twice 0.6-0.9 s apart); later, the run ended short: prompt again",
    )
    challenge_restarts: int = Field(
        2, ge=0, le=5, description="more or fewer blinks than asked prompt again this often, then LIVENESS_FAILED"
    )
    plan: tuple[Literal["blink", "left", "right"], ...] | None = Field(
        None, min_length=1, description="fixed challenge plan (evaluating recordings only; None: drawn from the CSPRNG)"
    )
    response_min_s: float = Field(
        0.15, ge=0, le=2, description="an action starting sooner than this after its prompt is not an answer"
    )
    turn_min_parallax: float = Field(
        0.05, ge=0, le=1, description="a turn must leave this homography residual (fraction of the eye span)"
    )
    turn_min_deg: float = Field(12.0, gt=0, le=45, description="yaw change that counts as a head turn")
    blink_close: float = Field(
        0.35, gt=0, lt=1, description="eyeBlink blendshape (both eyes) at or above this counts as closed"
    )
    blink_rise: float = Field(
        0.2, gt=0, lt=1, description="and it must be this far above the member's open-eye baseline"
    )
    blink_open_margin: float = Field(
        0.12, gt=0, lt=1, description="eyes count as open again within this of the baseline"
    )
    blink_max_closed_s: float = Field(2.0, gt=0, le=10, description="a longer closure is not a blink")
    # Liveness: passive signal
    passive: bool = Field(True, description="also require eyelid deformation against the rigid face plane")
    passive_min_deformation: float = Field(
        0.25, gt=0, lt=1, description="eyelid gap must shrink by this fraction (after removing rigid motion)"
    )
    blink_min_partial: int = Field(
        1, ge=0, le=10, description="partly-open frames a real blink shows while reopening (a swap or warp jumps)"
    )
    seed: int | None = Field(None, description="fixed seed of the challenge plan for tests and replays (None: CSPRNG)")
    # One tracked face (tracker.py) and identity consistency (identity.py)
    track_lost_s: float = Field(
        0.2, gt=0, le=5, description="during liveness/capture, no face this long restarts the challenge"
    )
    track_gap_s: float = Field(0.35, gt=0, le=5, description="frames further apart than this restart the challenge")
    track_jump: float = Field(
        0.3, gt=0, le=5, description="a face box moving more than this fraction of its width between frames restarts"
    )
    identity_min_cosine: float | None = Field(
        None, ge=-1, le=1, description="challenge frames vs capture; unset: the matching threshold"
    )
    # Result record
    include_embedding: bool = Field(False, description="privacy: put the fused probe embedding in the result record")
    keep_guidance: int = Field(50, ge=0, le=1000, description="at most this many guidance events in the result record")

    @field_validator("prompt_delay_s")
    @classmethod
    def _delay_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not 0 <= lo <= hi <= 10:
            raise ValueError(f"prompt_delay_s must be [lo, hi] with 0 <= lo <= hi <= 10 seconds, got {list(v)}")
        return v
