"""The versioned JSON Schema (draft 2020-12) of the verification result record; docs/result-schema.md shows it."""

from __future__ import annotations

from typing import Any

from terminal.session.record import DECISIONS, SCHEMA_ID, SCHEMA_VERSION

_NUM_OR_NULL: dict[str, Any] = {"type": ["number", "null"]}
_SECONDS: dict[str, Any] = {"type": ["number", "null"], "minimum": 0}
_TEXT: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}


def _obj(props: dict[str, Any], required: list[str] | None = None, extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required if required is not None else list(props),
            "additionalProperties": extra}


_CHALLENGE = {"type": "object", "required": ["kind", "outcome", "duration_s"],
              "properties": {"kind": {"enum": ["blink", "turn_left", "turn_right"]},
                             "outcome": {"enum": ["running", "passed", "failed"]}, "duration_s": _SECONDS},
              "additionalProperties": {"type": ["number", "string", "null"]}}

RESULT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:capture-terminal:{SCHEMA_ID}:{SCHEMA_VERSION}",
    "title": "Verification result record",
    "description": "One per verification session. Carries scores and reason codes, never an image; an embedding "
                   "only when session.include_embedding is set.",
    **_obj({
        "schema": {"const": SCHEMA_ID},
        "schema_version": {"const": SCHEMA_VERSION},
        "result_id": {"type": "string", "format": "uuid", "pattern": "^[0-9a-f-]{36}$"},
        "request_id": {"type": "string", "minLength": 1},
        "terminal_id": {"type": "string", "minLength": 1},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time"},
        "decision": {"enum": list(DECISIONS)},
        "reason_code": {"type": ["string", "null"], "description": "LIVENESS_FAILED, the dominant gate code of a "
                                                                  "timeout, CANCELLED, ...; null on match/no_match"},
        "reason": {"type": ["string", "null"], "description": "one line for people, e.g. '72% of frames too dark, "
                                                             "light at maximum'"},
        "message": {"type": ["object", "null"], "additionalProperties": {"type": "string"},
                    "description": "what the member was shown at the end, per language"},
        "score": _NUM_OR_NULL,
        "threshold": _NUM_OR_NULL,
        "models": _obj({
            "embedder": {"type": ["object", "null"], "properties": {"name": {"type": "string"},
                                                                    "version": {"type": "string"}}},
            "landmarker": {"type": ["object", "null"], "properties": {"name": {"type": "string"},
                                                                      "version": {"type": "string"}}},
            "fusion": {"type": ["string", "null"]},
        }),
        "n_probe": {"type": "integer", "minimum": 0},
        "n_reference": {"type": "integer", "minimum": 0},
        "quality": _obj({
            "frames": {"type": "integer", "minimum": 0},
            "face_frames": {"type": "integer", "minimum": 0},
            "passed_frames": {"type": "integer", "minimum": 0},
            "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "dominant": {"type": "array", "items": _obj({"code": {"type": "string"},
                                                         "share": {"type": "number", "minimum": 0, "maximum": 1}})},
            "mean_quality": _NUM_OR_NULL,
            "best_quality": _NUM_OR_NULL,
        }),
        "guidance": {"type": "array", "items": _obj({"code": {"type": "string"}, "t": {"type": "number"}})},
        "liveness": _obj({
            "enabled": {"type": "boolean"},
            "outcome": {"enum": ["passed", "failed", "skipped", "not_reached", "not_finished"]},
            "reason": {"type": ["string", "null"]},
            "duration_s": _SECONDS,
            "challenges": {"type": "array", "items": _CHALLENGE},
            "passive": {"type": ["object", "null"]},
        }),
        "light": {"type": ["object", "null"], "properties": {
            "duty": {"type": "number", "minimum": 0, "maximum": 1}, "converged": {"type": "boolean"},
            "brightness": {"type": "number"}, "faults": {"type": "array", "items": {"type": "string"}}}},
        "timings": _obj({k: _SECONDS for k in ("first_face_s", "light_converged_s", "first_pass_s", "liveness_s",
                                                "decision_s", "decision_after_face_s")}),
        "frames": {"type": "integer", "minimum": 0},
        "embedding": {"type": "array", "items": {"type": "number"},
                      "description": "fused probe embedding; present only when session.include_embedding = true"},
        "capture_file": {"type": "string", "description": "name of the best frame kept on the terminal under "
                         "<state_dir>/captures; present only when terminal.keep_images = true (never sent)"},
    }, required=["schema", "schema_version", "result_id", "request_id", "terminal_id", "started_at", "finished_at",
                 "decision", "reason_code", "reason", "message", "score", "threshold", "models", "n_probe",
                 "n_reference", "quality", "guidance", "liveness", "light", "timings", "frames"]),
}


def validate_result(record: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if ``record`` does not follow RESULT_SCHEMA (needs jsonschema: tests, tools)."""
    import jsonschema

    jsonschema.validate(record, RESULT_SCHEMA, format_checker=jsonschema.FormatChecker())
