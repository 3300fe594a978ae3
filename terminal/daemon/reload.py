"""SIGHUP: re-apply the sections of the configuration that changed, on the frame loop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from terminal.analysis.gate import QualityGate
from terminal.daemon.services import Services, load_walkup, open_link
from terminal.matching.factory import build_matcher
from terminal.report.ledger import RequestLedger
from terminal.report.outbox import Outbox

log = logging.getLogger(__name__)


def apply_changes(svc: Services, changed: set[str], start_link: Callable[[], None]) -> None:
    """Rebuild what ``changed`` (top-level section names) touches; ``svc.cfg`` is already the new config."""
    cfg = svc.cfg
    if "camera" in changed:
        svc.camera.close()  # reopened with the new settings by the next read
    if changed & {"quality", "matching", "models"}:
        svc.gate = QualityGate.from_config(cfg, mode="video")
        svc.matcher = build_matcher(cfg)
    if "light" in changed:
        svc.light.reopen(cfg.light)
    if changed & {"daemon", "matching", "models"}:
        svc.walkup = load_walkup(cfg, svc.matcher)
    if changed & {"mqtt", "outbox", "terminal", "security"}:
        svc.link.stop(clean=True)
        svc.outbox.close()
        svc.outbox = Outbox.from_config(cfg.outbox, cfg.terminal.state_dir)
        svc.ledger = RequestLedger(svc.outbox, keep_s=svc.ledger.keep_s)
        svc.link = open_link(cfg, svc.outbox, svc.matcher)
        start_link()
    log.debug("reload applied: %s", ", ".join(sorted(changed)) or "nothing")
