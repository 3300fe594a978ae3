"""A signed command cannot run twice while its signature is valid, even after the request-id TTL (review 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terminal.report.commands import CommandProcessor
from terminal.report.seen import SeenRequests
from terminal.security import keys
from terminal.security.envelope import sign_command
from terminal.security.runtime import Security


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def processor(
    tmp_path: Path, clock: Clock, central: Any, max_validity_s: float, name: str = "seen.db"
) -> tuple[CommandProcessor, list[str]]:
    sec = Security("T1", keys.generate(), [central.public_key()], True, max_validity_s, 300.0, clock=clock)
    proc = CommandProcessor(
        authenticate=sec.authenticate,
        clock=clock,
        seen_store=SeenRequests(tmp_path / name, clock=clock),
        dedup_ttl_s=3600.0,
        deadline_horizon_s=86400.0,
    )
    runs: list[str] = []

    def handler(n: str, cmd: Any, reply: Any) -> None:
        runs.append(n)
        reply({"request_id": cmd["request_id"], "ok": True, "cancelled": True})

    proc.handler = handler
    return proc, runs


@pytest.mark.parametrize("command", ["cancel", "diagnose"])
def test_a_long_lived_signed_command_is_not_run_again_after_the_dedup_ttl(tmp_path: Path, command: str) -> None:
    clock, central = Clock(1_800_000_000.0), keys.generate()
    proc, runs = processor(tmp_path, clock, central, 7 * 86400)
    raw = json.dumps(
        sign_command({"request_id": "c-1"}, central, terminal_id="T1", name=command, ttl_s=3 * 86400, now=clock.t)
    ).encode()
    assert proc.handle(command, raw, lambda m: None) == "HANDLED"
    for dt in (3600, 86400 + 3600, 2 * 86400, 3 * 86400 - 1):  # past dedup_ttl_s and deadline_horizon_s
        clock.t = 1_800_000_000.0 + dt
        assert proc.handle(command, raw, lambda m: None) == "DUPLICATE", dt
    clock.t = 1_800_000_000.0 + 3 * 86400 + 1  # the signature has expired: refused as such, still never run
    assert proc.handle(command, raw, lambda m: None) == "BAD_SIGNATURE"
    assert runs == [command]


def test_a_command_signed_slightly_in_the_future_is_not_run_twice_with_the_defaults(tmp_path: Path) -> None:
    clock, central = Clock(1_900_000_000.0), keys.generate()
    proc, runs = processor(tmp_path, clock, central, 86400)
    raw = json.dumps(
        sign_command({"request_id": "c-2"}, central, terminal_id="T1", name="cancel", ttl_s=86400, now=clock.t + 290)
    ).encode()
    assert proc.handle("cancel", raw, lambda m: None) == "HANDLED"
    clock.t += 86400 + 100  # beyond deadline_horizon_s, the signature still valid
    assert proc.handle("cancel", raw, lambda m: None) == "DUPLICATE"
    # a restart: a fresh processor on the same store still knows the id
    proc2, runs2 = processor(tmp_path, clock, central, 86400)
    assert proc2.handle("cancel", raw, lambda m: None) == "DUPLICATE"
    assert runs == ["cancel"] and runs2 == []
