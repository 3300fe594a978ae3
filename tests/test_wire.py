"""One typed model per wire contract: the result, commands and replies build their payloads and their schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from terminal.report.commands import SCHEMAS, CommandProcessor
from terminal.report.replies import REPLY_BODIES, CommandReply, error_reply, ok_reply
from terminal.session.result import ChallengeReport, VerificationResult, result_schema, result_wire
from terminal.wire import json_schema
from terminal.wire_docs import pages

REPO = Path(__file__).resolve().parents[1]


def minimal_result(**over: Any) -> dict[str, Any]:
    """A result as a session with no face and liveness disabled would send it."""
    rec: dict[str, Any] = {
        "schema": "terminal-verification-result",
        "schema_version": 1,
        "result_id": "0b9c3f0e-6c8a-4c47-9d1e-2f5a8b7c6d5e",
        "request_id": "r-1",
        "terminal_id": "t-1",
        "started_at": "2026-01-01T00:00:00.000Z",
        "finished_at": "2026-01-01T00:00:05.000Z",
        "decision": "timeout",
        "reason_code": "NO_FACE",
        "reason": "100% of frames no face in view",
        "message": {"id": "x", "en": "y"},
        "score": None,
        "threshold": 0.55,
        "models": {"embedder": {"name": "e", "version": "1"}, "landmarker": None, "fusion": "mean"},
        "n_probe": 0,
        "n_reference": 3,
        "quality": {
            "frames": 10,
            "face_frames": 0,
            "passed_frames": 0,
            "counts": {"NO_FACE": 10},
            "dominant": [{"code": "NO_FACE", "share": 1.0}],
            "mean_quality": 0.0,
            "best_quality": 0.0,
        },
        "guidance": [{"code": "NO_FACE", "t": 0.5}],
        "liveness": {
            "enabled": False,
            "outcome": "skipped",
            "reason": None,
            "duration_s": None,
            "challenges": [],
            "passive": None,
            "pad": None,
            "identity": None,
            "track": None,
        },
        "light": None,
        "timings": {
            k: None
            for k in (
                "first_face_s",
                "light_converged_s",
                "first_pass_s",
                "liveness_s",
                "decision_s",
                "decision_after_face_s",
            )
        },
        "frames": 10,
    }
    rec.update(over)
    return rec


def test_result_round_trips_with_the_same_keys() -> None:
    rec = minimal_result()
    wire = VerificationResult.model_validate(rec).wire()
    assert wire == rec  # backward compatible: the same keys, nulls kept, absent optionals still absent
    jsonschema.validate(wire, result_schema(), format_checker=jsonschema.FormatChecker())


def test_optional_fields_are_left_off_or_sent() -> None:
    with_emb = VerificationResult.model_validate(minimal_result(embedding=[0.1, 0.2], capture_file="a.jpg")).wire()
    assert with_emb["embedding"] == [0.1, 0.2] and with_emb["capture_file"] == "a.jpg"
    assert "embedding" not in VerificationResult.model_validate(minimal_result()).wire()
    schema = result_schema()
    assert "embedding" not in schema["required"] and schema["properties"]["embedding"]["type"] == "array"
    assert {"schema", "schema_version", "reason_code", "light"} <= set(schema["required"])


@pytest.mark.parametrize(
    "bad",
    [
        {"surprise": 1},  # unknown key
        {"decision": "maybe"},  # not an allowed value
        {"n_probe": -1},  # below its minimum
        {"result_id": "not-a-uuid"},  # wrong pattern
        {"quality": {"frames": 1}},  # nested part incomplete
        {"schema_version": 2},  # a version this code does not write
    ],
)
def test_model_and_schema_refuse_the_same_bad_records(bad: dict[str, Any]) -> None:
    rec = minimal_result(**bad)
    with pytest.raises(ValidationError):
        VerificationResult.model_validate(rec)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(rec, result_schema(), format_checker=jsonschema.FormatChecker())


def test_challenge_detail_keys_are_typed() -> None:
    ok = {"kind": "blink", "outcome": "passed", "duration_s": 1.2, "peak": 0.8, "reason": None}
    rec = minimal_result(
        liveness={
            "enabled": True,
            "outcome": "passed",
            "reason": None,
            "duration_s": 1.2,
            "challenges": [ok],
            "passive": {"signal": "eyelid_deformation"},
            "pad": {"model": "m", "score": 0.97, "threshold": 0.91, "frames": 6, "passed": True},
            "identity": {"passed": True, "threshold": 0.55, "cosine": {"before": 0.9}},
            "track": {"restarts": 0, "reasons": []},
        }
    )
    assert VerificationResult.model_validate(rec).wire()["liveness"]["challenges"] == [ok]
    rec["liveness"]["challenges"] = [{**ok, "frames": [1, 2]}]  # a list is not a measured value
    with pytest.raises(ValidationError):
        VerificationResult.model_validate(rec)


def test_challenge_detail_keeps_bools_and_ints() -> None:
    detail = {"kind": "blink", "outcome": "passed", "duration_s": 1.2, "frames": 3, "closed": True}
    assert ChallengeReport.model_validate(detail).wire() == detail  # not 3.0 / 1.0


def test_a_result_off_its_model_is_logged_and_still_sent(caplog: pytest.LogCaptureFixture) -> None:
    fields = {k: v for k, v in minimal_result(n_probe=-1).items() if k not in ("schema", "schema_version")}
    sent = result_wire(**fields)
    assert sent["n_probe"] == -1 and sent["schema"] == "terminal-verification-result" and sent["decision"] == "timeout"
    assert "embedding" not in sent and sent["light"] is None  # absent optionals stay absent, nulls stay
    assert any("does not follow its schema" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    good = {k: v for k, v in minimal_result().items() if k not in ("schema", "schema_version")}
    assert result_wire(**good) == minimal_result()


def test_every_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(result_schema())
    for name, model in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(json_schema(model, schema_id=f"urn:x:{name}", title=name))
    for name, body in REPLY_BODIES.items():
        jsonschema.Draft202012Validator.check_schema(json_schema(body, schema_id=f"urn:x:r:{name}", title=name))


def test_replies_follow_their_schemas() -> None:
    envelope = json_schema(CommandReply, schema_id="urn:x", title="reply")
    err = error_reply("BUSY", "a session is running", "verify", "r-1")
    assert err == {
        "request_id": "r-1",
        "command": "verify",
        "ok": False,
        "error": {"code": "BUSY", "message": "a session is running"},
    }
    ok = ok_reply("verify", "r-2", {"accepted": True, "state": "searching"})
    assert ok == {"request_id": "r-2", "command": "verify", "ok": True, "accepted": True, "state": "searching"}
    for msg in (err, ok, ok_reply("cancel", "r-3", {"cancelled": False, "reason": "no such session running"})):
        jsonschema.validate(msg, envelope)
    # a handler's failure body becomes a proper refusal, not ok=true with an error inside
    failed = ok_reply("diagnose", "r-4", {"ok": False, "error": {"code": "CAMERA_DOWN", "message": "gone"}})
    assert failed["ok"] is False and failed["error"]["code"] == "CAMERA_DOWN"


def test_a_reply_body_off_its_model_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    msg = ok_reply("verify", "r-5", {"accepted": True, "state": "searching", "extra": 1})
    assert msg["extra"] == 1  # still sent: the central system learns what happened
    assert any("does not follow its schema" in r.getMessage() for r in caplog.records)


def test_ping_reply_from_the_processor_follows_its_model() -> None:
    sent: list[dict[str, Any]] = []
    proc = CommandProcessor(require_deadline=False)
    assert proc.handle("ping", json.dumps({"request_id": "p-1"}).encode(), sent.append) == "OK"
    assert REPLY_BODIES["ping"].model_validate(
        {k: v for k, v in sent[0].items() if k not in ("request_id", "command", "ok")}
    )
    assert sent[0]["ok"] is True and sent[0]["pong"] is True


def test_generated_docs_are_current() -> None:
    stale = [p.name for p, text in pages().items() if not p.exists() or p.read_text() != text]
    assert stale == [], "run: python -m terminal.wire_docs"
    r = subprocess.run(
        [sys.executable, "-m", "terminal.wire_docs", "--check"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
