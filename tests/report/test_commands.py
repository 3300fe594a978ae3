"""Command validation: schemas, codes, deadlines, dedup; a hypothesis fuzz of >= 1,000 malformed payloads."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from terminal.report.commands import ERROR_CODES, CommandProcessor, DedupCache, parse_deadline
from terminal.report.errors import CommandError
from terminal.report.templates import default_template_validator
from terminal.report.topics import REQUEST_ID_RE
from tests.report.helpers import MODEL, template_dict

FUTURE = (datetime.now(UTC) + timedelta(hours=12)).isoformat()
PAST = time.time() - 60  # fixed once: hypothesis needs the same strategy bounds on every run


def processor(**kw: Any) -> CommandProcessor:
    return CommandProcessor(template_validator=default_template_validator(model=MODEL, dim=128), **kw)


def run(p: CommandProcessor, name: str | None, body: Any) -> tuple[str, list[dict[str, Any]]]:
    replies: list[dict[str, Any]] = []
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return p.handle(name, raw, replies.append), replies


def verify(**over: Any) -> dict[str, Any]:
    return {"request_id": "v1", "deadline": FUTURE, "template": template_dict(), **over}


def template_embeddings(body: Any) -> list[str]:
    """The base64 embeddings of the template a command carries, plus those of the default test template."""
    found = list(template_dict()["embeddings"])
    tpl = body.get("template") if isinstance(body, dict) else None
    if isinstance(tpl, dict) and isinstance(tpl.get("embeddings"), list):
        found += [e for e in tpl["embeddings"] if isinstance(e, str)]
    return found


def test_valid_verify_reaches_handler_and_reply_is_wrapped() -> None:
    p = processor()
    seen: list[tuple[str, dict[str, Any]]] = []
    p.handler = lambda name, payload, reply: (seen.append((name, payload)), reply({"session": "started"}))
    outcome, replies = run(p, "verify", verify(member_ref="m-1"))
    assert outcome == "HANDLED" and seen[0][0] == "verify" and seen[0][1]["member_ref"] == "m-1"
    assert replies == [{"request_id": "v1", "command": "verify", "ok": True, "session": "started"}]


def test_ping_answered_without_handler() -> None:
    outcome, replies = run(processor(), "ping", {"request_id": "p1"})
    assert outcome == "OK" and replies[0]["pong"] is True and replies[0]["request_id"] == "p1"


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("verify", b"{not json", "BAD_JSON"),
        ("verify", b"\xff\xfe", "BAD_JSON"),
        ("verify", b'{"request_id": "a", "deadline": NaN}', "BAD_JSON"),
        ("verify", [1, 2], "INVALID"),
        ("launch", {"request_id": "x1"}, "UNKNOWN_COMMAND"),
        ("ping", {"request_id": 5}, "INVALID"),
        ("ping", {"request_id": "has/slash"}, "INVALID"),
        ("ping", {"request_id": "a", "extra": 1}, "INVALID"),
        ("verify", verify(deadline=True), "INVALID"),
        ("verify", verify(deadline="2020-01-01T00:00:00"), "INVALID"),
        ("verify", verify(deadline="yesterday"), "INVALID"),
        ("verify", verify(deadline=1e300), "INVALID"),
        ("verify", {"request_id": "v1", "template": template_dict()}, "INVALID"),
        ("verify", verify(deadline="2020-01-01T00:00:00Z"), "EXPIRED"),
        ("verify", verify(deadline=time.time() - 3600), "EXPIRED"),
        ("verify", verify(template={**template_dict(), "embeddings": ["@@@not base64@@@"]}), "BAD_BASE64"),
        ("verify", verify(template=template_dict(dim=64)), "WRONG_DIM"),
        ("verify", verify(template=template_dict(model="other-model")), "WRONG_MODEL"),
        ("verify", verify(template={"model": MODEL}), "BAD_TEMPLATE"),
        ("verify", verify(template="abc"), "INVALID"),
        ("verify", verify(timeout_s=-1), "INVALID"),
        ("diagnose", {"request_id": "d", "checks": ["disk"]}, "INVALID"),
        ("diagnose", {"request_id": "d"}, "NOT_SUPPORTED"),
    ],
)
def test_each_refusal_has_its_code_and_is_logged(
    name: str, body: Any, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="terminal.report.commands"):
        outcome, replies = run(processor(), name, body)
    assert outcome == code
    assert len(replies) == 1 and replies[0]["ok"] is False and replies[0]["error"]["code"] == code
    assert code in caplog.text
    # no template bytes in the journal: no embedding (not even its first 16 base64 chars) is logged
    leaked = [e[:16] for e in template_embeddings(body) if e[:16] in caplog.text]
    assert not leaked, f"template embeddings in the log: {leaked}"


def test_oversize_refused_before_parsing() -> None:
    outcome, replies = run(processor(max_bytes=300), "verify", verify())
    assert outcome == "TOO_LARGE" and replies[0]["error"]["code"] == "TOO_LARGE"


def test_redelivered_command_runs_once_and_gets_the_same_reply() -> None:
    p = processor()
    calls: list[str] = []
    p.handler = lambda name, payload, reply: (calls.append(payload["request_id"]), reply({"n": len(calls)}))
    first = run(p, "verify", verify())
    second = run(p, "verify", verify())
    assert calls == ["v1"] and first[0] == "HANDLED" and second[0] == "DUPLICATE"
    assert second[1] == first[1]


def test_handler_crash_is_internal_error_and_processor_keeps_serving() -> None:
    p = processor()

    def boom(name: str, payload: dict[str, Any], reply: Any) -> None:
        raise RuntimeError("camera exploded")

    p.handler = boom
    assert run(p, "verify", verify())[0] == "INTERNAL"
    assert run(p, "ping", {"request_id": "after"})[0] == "OK"


def test_dedup_cache_expires_and_is_bounded() -> None:
    now = [0.0]
    c = DedupCache(ttl_s=10, max_entries=3, clock=lambda: now[0])
    assert c.check_and_add("a") == (False, None)
    assert c.check_and_add("a")[0] is True
    now[0] = 11
    assert c.check_and_add("a")[0] is False
    for k in "bcde":
        c.check_and_add(k)
    assert len(c) <= 3


def test_deadline_forms() -> None:
    assert parse_deadline("2030-01-01T00:00:00+07:00") == datetime(2029, 12, 31, 17, tzinfo=UTC).timestamp()
    assert parse_deadline(1_900_000_000) == 1.9e9
    for bad in ("2030-01-01", 1e13, -1, float("nan")):
        with pytest.raises(CommandError):
            parse_deadline(bad)


# ---------------------------------------------------------------- fuzz
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(
    json_scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=12,
)
names = st.sampled_from(["verify", "cancel", "diagnose", "ping"]) | st.text(max_size=12) | st.none()


@st.composite
def malformed(draw: st.DrawFn) -> tuple[str | None, bytes]:
    """A command that must be refused: broken bytes, non-objects, wrong fields, broken templates, expired."""
    kind = draw(st.integers(0, 6))
    name = draw(names)
    if kind == 0:  # random bytes (never valid JSON objects of a valid command: no request_id inside)
        return name, draw(st.binary(max_size=200))
    if kind == 1:  # JSON that is not an object
        return name, json.dumps(draw(st.lists(json_values, max_size=3) | json_scalars)).encode()
    if kind == 2:  # objects with junk keys (the extra keys make any known schema fail)
        body = draw(
            st.dictionaries(
                st.text(min_size=1, max_size=8).filter(lambda k: k != "request_id"), json_values, min_size=1, max_size=5
            )
        )
        return name, json.dumps({**body, "zz_extra": 1}).encode()
    if kind == 3:  # request_id of the wrong type or shape
        # (not merely "not alphanumeric": "." or "a-b" are valid ids, and a valid cancel/ping is not refused)
        rid = draw(json_values.filter(lambda v: not (isinstance(v, str) and REQUEST_ID_RE.fullmatch(v))))
        return name, json.dumps({"request_id": rid}).encode()
    base = verify(request_id=draw(st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)))
    if kind == 4:  # broken embeddings
        tpl = template_dict()
        tpl["embeddings"] = [draw(st.text(max_size=40) | st.binary(max_size=20).map(lambda b: b.hex() + "!"))]
        base["template"] = tpl
    elif kind == 5:  # a field of the wrong type
        key = draw(st.sampled_from(["template", "deadline", "member_ref", "timeout_s"]))
        base[key] = draw(st.lists(json_scalars, min_size=1, max_size=2) | st.booleans())
    else:  # expired deadline
        base["deadline"] = draw(st.floats(min_value=0, max_value=PAST))
    return "verify", json.dumps(base).encode()


@pytest.mark.slow
def test_fuzz_1200_malformed_commands_never_crash_and_are_all_answered(caplog: pytest.LogCaptureFixture) -> None:
    p = processor()
    p.handler = lambda name, payload, reply: pytest.fail(f"malformed {name} reached the handler: {payload}")
    count = 0

    @settings(
        max_examples=1200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(malformed())
    def one(case: tuple[str | None, bytes]) -> None:
        nonlocal count
        name, raw = case
        replies: list[dict[str, Any]] = []
        before = len(caplog.records)
        outcome = p.handle(name, raw, replies.append)
        assert outcome in ERROR_CODES
        assert len(replies) == 1 and replies[0]["ok"] is False and replies[0]["error"]["code"] == outcome
        assert len(caplog.records) > before  # logged too
        count += 1

    with caplog.at_level(logging.INFO, logger="terminal.report.commands"):
        one()
    assert count >= 1000
    assert run(p, "ping", {"request_id": "still-alive"})[0] == "OK"
