"""Every accepted request answered exactly once, and reporting that cannot be silenced, tried black-box:
SIGKILLs, broker restarts, link cuts and stalls, hostile commands, a full disk, a diagnose flood."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.broker import require_mosquitto
from tests.support.fault_run import FAULTS, FaultRun
from tests.support.fixtures import live_clip_and_reference
from tests.support.fuzz_run import FuzzRun

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.fixture(scope="module")
def clip_and_ref(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return live_clip_and_reference(tmp_path_factory.mktemp("fault-clip"))


def test_each_fault_once_every_accepted_request_gets_exactly_one_result(
    tmp_path: Path, clip_and_ref: tuple[Path, dict[str, Any]]
) -> None:
    """SIGKILL mid-session and right after the result event, broker restart, link cut, link stall."""
    require_mosquitto()
    clip, ref = clip_and_ref
    fig = FaultRun(tmp_path, clip, ref, seed=11, fault_every=1, plan=list(FAULTS)).run(6)
    assert fig["accepted"] >= 6 and fig["faults"] == dict.fromkeys(FAULTS, 1), fig
    assert fig["lost"] == 0 and fig["more_than_one"] == 0 and fig["wrong_result_or_member_ref"] == 0, fig
    assert fig["daemon_starts"] == 3, fig  # two kills, two restarts
    assert any(k.startswith("failed/INTERRUPTED") for k in fig["decisions"]), fig  # the one killed mid-session


def test_hostile_commands_a_full_disk_and_a_diagnose_flood_never_silence_the_terminal(
    tmp_path: Path, clip_and_ref: tuple[Path, dict[str, Any]]
) -> None:
    require_mosquitto()
    clip, ref = clip_and_ref
    fig = FuzzRun(tmp_path, clip, ref, seed=5, watchdog_s=2.0).run(240)
    assert fig["unanswered"] == 0 and fig["link_deaths"] == 0 and fig["link_connects"] == 1, fig
    assert fig["missed_watchdog"] == 0 and fig["watchdog_pings"] > 0 and fig["final_ping_ok"], fig
    assert fig["kinds"]["diagnose_flood"] >= 20 and fig["codes"].get("RATE_LIMITED", 0) > 0, fig
    if fig["disk"]["tmpfs"]:  # a tmpfs could be mounted: the full disk was real
        assert fig["disk"]["verify_while_full"] == "STORAGE_FULL" and fig["disk"]["alarm_seen"], fig
        assert fig["disk"]["verify_after_freeing"] == "accepted", fig
