"""What a diagnostics run produces: one ``CheckResult`` per check, the limits they are judged by, the report.

Kept apart from the runner so the check modules (hardware, models, mqtt, system, audio) import these types
without importing the runner that imports them (no import cycle).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Status = Literal["pass", "warn", "fail", "skip"]
CHECKS = ("versions", "camera", "light", "models", "mqtt", "outbox", "disk", "clock", "thermal", "audio")


@dataclass
class CheckResult:
    """One line of the table: a check's verdict, one-line summary and measured values."""

    name: str
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """True for a failure (the command exits non-zero)."""
        return self.status == "fail"


@dataclass(frozen=True)
class DiagnoseLimits:
    """Pass/fail thresholds (defaults for a Pi 4/5 terminal)."""

    camera_frames: int = 20  # frames read for the camera check
    camera_timeout_s: float = 10.0  # no frame within this: the camera hangs
    min_fps_ratio: float = 0.5  # measured fps below ratio * camera.fps fails
    dark_luma: float = 3.0  # mean luma below: black frames (lens cap, dead sensor)
    bright_luma: float = 252.0  # mean luma above: saturated frames
    light_steps: int = 4  # duty levels from 0 to max_duty
    light_frames: int = 2  # frames averaged per level
    flicker_frames: int = 12  # frames held at half duty for frame-to-frame variation and banding
    min_free_mb: float = 200.0  # free space under the state dir
    min_free_fraction: float = 0.05
    max_temp_c: float = 80.0  # the SoC throttles at 80-85 °C
    warn_temp_c: float = 70.0


@dataclass
class DiagnosticsReport:
    """All check results, in the order they ran."""

    checks: list[CheckResult]
    terminal_id: str
    started: float
    snapshot: str | None = None

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and skips are fine)."""
        return not any(c.failed for c in self.checks)

    def get(self, name: str) -> CheckResult:
        """The result of one check by name; KeyError if it did not run."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (also the reply body of the ``diagnose`` MQTT command)."""
        return {
            "ok": self.ok,
            "terminal_id": self.terminal_id,
            "started": self.started,
            "snapshot": self.snapshot,
            "checks": [asdict(c) for c in self.checks],
        }

    def table(self) -> str:
        """The human table: one row per check, then the overall verdict."""
        width = max(len(c.name) for c in self.checks) if self.checks else 5
        mark = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
        rows = [f"{c.name:<{width}}  {mark[c.status]}  {c.summary}" for c in self.checks]
        failed = [c.name for c in self.checks if c.failed]
        rows.append("")
        rows.append("all checks passed" if not failed else f"FAILED: {', '.join(failed)}")
        if self.snapshot:
            rows.append(f"snapshot: {self.snapshot}")
        return "\n".join(rows)


def timed(name: str, fn: Callable[[], CheckResult]) -> CheckResult:
    """Run one check; an unexpected exception becomes a failure of that check, never of the whole run."""
    t0 = time.perf_counter()
    try:
        result = fn()
    except Exception as err:  # a check must report, not crash the self-test
        log.debug("check %s raised", name, exc_info=True)
        result = CheckResult(name, "fail", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
    result.seconds = round(time.perf_counter() - t0, 3)
    return result
