"""The field technician's self-test: run every check, collect pass/warn/fail/skip, render a table or JSON.

``run_diagnostics(cfg)`` is what ``terminal diagnose`` and the daemon's ``diagnose`` MQTT command call. The
daemon passes its own frame source and light devices (``source=``, ``devices=``) so the test runs on the
hardware it already holds; the CLI lets run_diagnostics open them from the config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from terminal.config import Config
from terminal.diagnostics.report import CHECKS, CheckResult, DiagnoseLimits, DiagnosticsReport, timed

if TYPE_CHECKING:
    from gpiozero import Factory

    from terminal.camera.base import FrameSource
    from terminal.light.devices import LightDevices

__all__ = ["CHECKS", "CheckResult", "DiagnoseLimits", "DiagnosticsReport", "run_diagnostics"]

log = logging.getLogger(__name__)


def run_diagnostics(
    cfg: Config,
    *,
    source: FrameSource | None = None,
    source_spec: str | None = None,
    devices: LightDevices | None = None,
    pin_factory: Factory | None = None,
    snapshot: Path | None = None,
    only: Iterable[str] | None = None,
    limits: DiagnoseLimits | None = None,
    sys_root: Path = Path("/"),
) -> DiagnosticsReport:
    """Run the checks (all, or ``only``) and return the report; logs one journal line per failure.

    ``source``/``devices`` are used as given (the daemon's); otherwise they are opened from ``cfg`` (or from
    ``source_spec``, e.g. ``sim:IMAGE``, which is then lit by the light devices) and closed at the end.
    ``sys_root`` redirects /sys and /run reads (tests).
    """
    from terminal.diagnostics import hardware as diag_hardware
    from terminal.diagnostics import models as diag_models
    from terminal.diagnostics import mqtt as diag_mqtt
    from terminal.diagnostics import system as diag_system
    from terminal.voice.check import check_audio

    lim = limits or DiagnoseLimits()
    wanted = set(CHECKS if only is None else only)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(sorted(unknown))} (known: {', '.join(CHECKS)})")
    report = DiagnosticsReport([], cfg.terminal.id, time.time())
    hw = diag_hardware.Hardware(
        cfg,
        source=source,
        source_spec=source_spec,
        devices=devices,
        pin_factory=pin_factory,
        need_light="light" in wanted,
    )
    try:
        plan: list[tuple[str, Callable[[], CheckResult]]] = [
            ("versions", diag_system.check_versions),
            ("camera", lambda: diag_hardware.check_camera(cfg, hw, lim)),
            ("light", lambda: diag_hardware.check_light(cfg, hw, lim)),
            ("models", lambda: diag_models.check_models(cfg, hw.last_image())),
            ("mqtt", lambda: diag_mqtt.check_mqtt(cfg)),
            ("outbox", lambda: diag_mqtt.check_outbox(cfg)),
            ("disk", lambda: diag_system.check_disk(cfg, lim)),
            ("clock", lambda: diag_system.check_clock(sys_root=sys_root)),
            ("thermal", lambda: diag_system.check_thermal(lim, sys_root=sys_root)),
            ("audio", lambda: check_audio(cfg)),
        ]
        for name, fn in plan:
            if name in wanted:
                report.checks.append(timed(name, fn))
        if snapshot is not None:
            shot = timed("snapshot", lambda: diag_hardware.write_snapshot(cfg, hw, snapshot))
            report.checks.append(shot)
            report.snapshot = str(snapshot) if not shot.failed else None
    finally:
        hw.close()
    for c in report.checks:
        if c.failed:
            log.error(
                "diagnose: %s failed: %s",
                c.name,
                c.summary,
                extra={"journal": {"RESULT": "diagnose_fail", "REASON": c.name}},
            )
    return report
