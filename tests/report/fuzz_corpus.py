"""A deterministic corpus of hostile commands: what an attacker or a broken central system sends.

``corpus(n, seed, template)`` yields ``n`` (command name, payload bytes, kind) triples from a seeded generator,
so a failing case is reproduced by its index. Kinds: huge integers anywhere, deep nesting, wrong types,
broken JSON and bytes, unknown names, oversize payloads, far and past deadlines, re-used ids, and valid
verify/cancel/ping/diagnose commands (a diagnose flood among them). tests/report/test_commands.py,
tests/daemon/test_faults.py and bench/fuzz_commands.py use it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

BIG = int("9" * 400)
NAMES = ("verify", "cancel", "diagnose", "ping")


def _wrong(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            BIG,
            -BIG,
            1e308,
            -1e308,
            1.5,
            "",
            "x" * 300,
            [],
            {},
            [1, "a"],
            {"a": {"b": []}},
            "2026-13-45T99:99:99Z",
            "\u0000",
            "😀" * 10,
        ]
    )


def _verify(rng: random.Random, rid: str, template: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        "request_id": rid,
        "deadline": now + rng.uniform(60, 3600),
        "template": template,
        "member_ref": f"m-{rid}",
        "timeout_s": round(rng.uniform(0.5, 1.5), 2),
    }


def case(
    i: int, rng: random.Random, template: dict[str, Any], now: float, max_bytes: int = 65536
) -> tuple[str, bytes, str]:
    """Case number ``i``."""
    rid = f"fz-{i:05d}"
    kind = rng.choices(
        [
            "huge_int",
            "nesting",
            "wrong_type",
            "bad_bytes",
            "unknown",
            "oversize",
            "deadline",
            "reused_id",
            "verify",
            "cancel",
            "ping",
            "diagnose_flood",
        ],
        weights=[12, 10, 16, 8, 5, 2, 8, 5, 5, 5, 8, 16],
    )[0]
    name = rng.choice(NAMES)
    body: Any
    if kind == "huge_int":
        body = _verify(rng, rid, dict(template), now)
        key = rng.choice(
            [
                "deadline",
                "timeout_s",
                "request_id",
                "member_ref",
                "template.count",
                "template.dim",
                "template",
                "checks",
                "target_request_id",
            ]
        )
        if key.startswith("template."):
            body["template"][key.split(".")[1]] = rng.choice([BIG, -BIG, 10**20])
        else:
            body[key] = rng.choice([BIG, -BIG, [BIG], 10**20, 1e308])
        name = rng.choice(["verify", "verify", "cancel", "diagnose"])
    elif kind == "nesting":  # written as text: json.dumps itself cannot encode 20,000 levels
        depth = rng.choice([15, 17, 40, 200, 900, 3000, 20000])
        opener, closer = rng.choice([("[", "]"), ('{"k":', "}")])
        inner = opener * depth + "1" + closer * depth
        raw = f'{{"request_id": "{rid}", "template": {inner}}}' if rng.random() < 0.5 else inner
        return name, raw.encode(), kind
    elif kind == "wrong_type":
        body = _verify(rng, rid, dict(template), now) if name == "verify" else {"request_id": rid}
        body[
            rng.choice(
                [
                    "request_id",
                    "deadline",
                    "template",
                    "member_ref",
                    "timeout_s",
                    "checks",
                    "target_request_id",
                    "extra",
                ]
            )
        ] = _wrong(rng)
    elif kind == "bad_bytes":
        raw = rng.choice(
            [
                b"",
                b"{",
                b"null",
                b"[]",
                b"\xff\xfe\x00",
                b'{"request_id": NaN}',
                b'{"a": Infinity}',
                bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
                b'{"request_id": "' + rid.encode() + b'", "deadline": 1e999}',
            ]
        )
        return name, raw, kind
    elif kind == "unknown":
        name = rng.choice(["reboot", "shell", "VERIFY", "verify2", "x" * 60, "-", "__init__", "_cmd_verify"])
        body = {"request_id": rid}
    elif kind == "oversize":
        body = {"request_id": rid, "pad": "x" * (max_bytes + rng.randrange(1, 5000))}
    elif kind == "deadline":
        body = _verify(rng, rid, template, now)
        body["deadline"] = rng.choice(
            [
                now - 10,
                now + 400 * 86400,
                "9999-12-31T23:59:59Z",
                "yesterday",
                "2030-01-01T00:00:00",
                1e13,
                -5,
                "+275760-09-13T00:00:00Z",
            ]
        )
        name = "verify"
    elif kind == "reused_id":
        body = {"request_id": f"fz-{rng.randrange(max(i, 1)):05d}"}
        name = rng.choice(["ping", "cancel"])
    elif kind == "verify":
        body, name = _verify(rng, rid, template, now), "verify"
    elif kind == "cancel":
        body, name = {"request_id": rid, "target_request_id": f"fz-{rng.randrange(max(i, 1)):05d}"}, "cancel"
    elif kind == "ping":
        body, name = {"request_id": rid}, "ping"
    else:
        body, name = {"request_id": rid, "checks": rng.choice([["outbox"], ["camera"], ["all"], None])}, "diagnose"
        if body["checks"] is None:
            del body["checks"]
    return name, json.dumps(body).encode(), kind


def corpus(n: int, seed: int, template: dict[str, Any], max_bytes: int = 65536) -> Iterator[tuple[str, bytes, str]]:
    """``n`` cases from ``seed`` (deadlines relative to now)."""
    rng = random.Random(seed)
    now = time.time()
    for i in range(n):
        yield case(i, rng, template, now, max_bytes)
