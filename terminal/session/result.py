"""The verification result as a typed model: what a session sends, and the JSON Schema docs/result-schema.md shows.

``VerificationResult(...).wire()`` is the dict published through the outbox and printed by
``terminal verify --json``. To add a field, add it here (see terminal/wire.py for the two kinds of optional
field), then run ``python -m terminal.wire_docs`` to regenerate the documented schema.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal, get_args

from pydantic import ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema

from terminal.wire import WireModel, json_schema

log = logging.getLogger(__name__)

SCHEMA_ID: Literal["terminal-verification-result"] = "terminal-verification-result"
SCHEMA_VERSION: Literal[1] = 1
Decision = Literal["match", "no_match", "failed", "timeout", "cancelled"]
LivenessOutcome = Literal["passed", "failed", "skipped", "not_reached", "not_finished"]
DECISIONS: tuple[str, ...] = get_args(Decision)

Seconds = Annotated[float | None, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


class ModelRef(WireModel):
    """A model by name and version."""

    name: str
    version: str


class ModelsUsed(WireModel):
    """The models that produced the result (null: not loaded)."""

    embedder: ModelRef | None
    landmarker: ModelRef | None
    fusion: str | None


class DominantCode(WireModel):
    """A failing gate code and its share of the session's frames."""

    code: str
    share: float = Field(ge=0, le=1)


class QualitySummary(WireModel):
    """Frames seen, with a face, passing; per-code failure counts; the dominant codes."""

    frames: Count
    face_frames: Count
    passed_frames: Count
    counts: dict[str, Count]
    dominant: list[DominantCode]
    mean_quality: float | None
    best_quality: float | None


class GuidanceShown(WireModel):
    """A message shown to the member: its code and seconds of frame time since the first frame."""

    code: str
    t: float


class ChallengeReport(WireModel):
    """One liveness challenge; extra keys are its measured values (numbers, a reason, the blink signature)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, bool | int | float | str | dict[str, Any] | None] = Field(init=False)

    kind: Literal["blink", "turn_left", "turn_right"]
    outcome: Literal["running", "passed", "failed", "restart"] = Field(
        description="restart: more or fewer blinks than asked, the member was prompted again"
    )
    duration_s: Seconds


class PadReport(WireModel):
    """Passive presentation-attack detection (docs/liveness.md): backend, fused score, threshold, frames scored."""

    model: str = Field(description="PAD backend: its models joined by '+'")
    score: float | None = Field(description="mean live probability over the scored frames (null: none scored)")
    threshold: float = Field(description="calibrated threshold (`terminal calibrate pad`); below it: LIVENESS_FAILED")
    frames: Count
    soft_frames: Count | None = Field(
        None, description="gate-passing frames too soft for PAD to score ([pad] min_sharpness); absent in older records"
    )
    soft_view: bool | None = Field(
        None,
        description="the scored frames were mostly soft: the stricter [pad] soft_view_threshold applied "
        "(`threshold` is the one used); absent in older records",
    )
    passed: bool


class IdentityReport(WireModel):
    """Challenge frames vs capture: cosine of the frame before and after the action with the captured face."""

    passed: bool | None = Field(description="null: not checked (no capture); false: IDENTITY_MISMATCH")
    threshold: float
    cosine: dict[str, float]


class TrackReport(WireModel):
    """Restarts of the challenge because the tracked face was lost, jumped, doubled or frames were missing."""

    restarts: Count
    reasons: list[Literal["second_face", "face_lost", "frame_gap", "face_jumped"]]


class LivenessReport(WireModel):
    """Liveness: whether it ran, its outcome and reason, the plan, each challenge, the passive signals, the track."""

    enabled: bool
    outcome: LivenessOutcome
    reason: str | None
    duration_s: Seconds
    challenges: list[ChallengeReport]
    passive: dict[str, Any] | None
    plan: list[Literal["blink", "left", "right"]] | SkipJsonSchema[None] = Field(
        None, description="the challenge drawn from the CSPRNG, in order; absent when liveness never started"
    )
    prompt_delay_s: list[Annotated[float, Field(ge=0)]] | SkipJsonSchema[None] = Field(
        None, description="delay before the first prompt of each try (CSPRNG); absent when liveness never started"
    )
    restarts: Count | SkipJsonSchema[None] = Field(
        None,
        description="answers with more or fewer blinks than asked (each prompted again, except one that ended the "
        "challenge after challenge_restarts re-prompts); absent when liveness never started",
    )
    pad: PadReport | None
    identity: IdentityReport | None
    track: TrackReport | None


class LightReport(WireModel):
    """The ring light at the end: duty, whether it converged, face brightness, faults."""

    duty: float = Field(ge=0, le=1)
    converged: bool
    brightness: float
    faults: list[str]


class TimingsReport(WireModel):
    """Seconds of frame time from the first frame to each milestone (null: never reached)."""

    first_face_s: Seconds
    light_converged_s: Seconds
    first_pass_s: Seconds
    liveness_s: Seconds
    decision_s: Seconds
    decision_after_face_s: Seconds


class VerificationResult(WireModel):
    """One per session: scores and reason codes, never an image; an embedding only with include_embedding."""

    schema_name: Literal["terminal-verification-result"] = Field(SCHEMA_ID, alias="schema")
    schema_version: Literal[1] = SCHEMA_VERSION
    result_id: str = Field(pattern="^[0-9a-f-]{36}$", json_schema_extra={"format": "uuid"})
    request_id: str = Field(min_length=1)
    terminal_id: str = Field(min_length=1)
    started_at: str = Field(json_schema_extra={"format": "date-time"})
    finished_at: str = Field(json_schema_extra={"format": "date-time"})
    decision: Decision
    reason_code: str | None = Field(
        description="LIVENESS_FAILED, the dominant gate code of a timeout, CANCELLED, ...; null on match/no_match"
    )
    reason: str | None = Field(description="one line for people, e.g. '72% of frames too dark, light at maximum'")
    message: dict[str, str] | None = Field(description="what the member was shown at the end, per language")
    score: float | None
    threshold: float | None
    models: ModelsUsed
    n_probe: Count
    n_reference: Count
    reference_sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")] | SkipJsonSchema[None] = Field(
        None,
        description="SHA-256 of the RFC 8785 canonical JSON of the reference "
        "template used, as the central system sent it; absent when the CLI built the reference from images",
    )
    quality: QualitySummary
    guidance: list[GuidanceShown]
    liveness: LivenessReport
    light: LightReport | None
    timings: TimingsReport
    frames: Count
    embedding: list[float] | SkipJsonSchema[None] = Field(
        None, description="fused probe embedding; present only when session.include_embedding = true"
    )
    signature: str | SkipJsonSchema[None] = Field(
        None,
        description="detached JWS (EdDSA/Ed25519) over the RFC 8785 canonical record without this field, "
        "added when the result is queued (docs/security.md)",
    )
    member_ref: Annotated[str, Field(max_length=128)] | SkipJsonSchema[None] = Field(
        None, description="the verify command's member_ref, echoed; present only when it carried one"
    )
    capture_file: str | SkipJsonSchema[None] = Field(
        None,
        description="name of the best frame kept on the terminal under <state_dir>/captures; present only "
        "when terminal.keep_images = true (never sent)",
    )


def result_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the result, generated from :class:`VerificationResult`."""
    return json_schema(
        VerificationResult, schema_id=f"urn:capture-terminal:{SCHEMA_ID}:{SCHEMA_VERSION}", title="Verification result"
    )


def result_wire(**fields: Any) -> dict[str, Any]:
    """The wire dict of a session's result, built through :class:`VerificationResult`.

    A result that breaks the model is a bug of this terminal, but the member's result must never be lost: it
    is logged as an error and sent as built (the central side's schema check will flag it too).
    """
    try:
        return VerificationResult(**fields).wire()
    except ValidationError as err:
        first = err.errors()[0]
        log.error(
            "result for %s does not follow its schema (sent anyway): %s: %s",
            fields.get("request_id"),
            ".".join(str(p) for p in first["loc"]),
            first["msg"],
        )
        optional = {n for n, f in VerificationResult.model_fields.items() if not f.is_required()}
        raw = {
            "schema": SCHEMA_ID,
            "schema_version": SCHEMA_VERSION,
            **{k: v for k, v in fields.items() if v is not None or k not in optional},
        }
        return dict(json.loads(json.dumps(raw, default=str)))
