"""SIGHUP: load the file again (an invalid one never replaces the running config), then re-apply what changed.

Both run on the frame loop; ``signals`` only sets the flag.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from terminal.analysis.gate import QualityGate
from terminal.config import Config, load_config
from terminal.daemon.services import Services, load_walkup, open_link
from terminal.errors import TerminalError
from terminal.kiosk.outputs import MemberOutputs
from terminal.matching.factory import build_matcher
from terminal.report.ledger import RequestLedger
from terminal.report.outbox import Outbox

if TYPE_CHECKING:
    from terminal.daemon.app import TerminalDaemon

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


def changed_sections(old: Config, new: Config) -> list[str]:
    """Names of the top-level config sections whose values differ (what a reload must re-apply)."""
    return [name for name in type(old).model_fields if getattr(old, name) != getattr(new, name)]


def reload_config(path: Path | str | None, current: Config) -> tuple[Config, str | None]:
    """Load ``path`` again; on success (new config, None), on any error (``current``, why it was refused).

    The daemon calls this on SIGHUP. An invalid file never replaces a working config: the error text (file,
    key, what is allowed) is returned for the journal and the status line.
    """
    try:
        new = load_config(path)
        from terminal.security.policy import enforce

        enforce(new, str(path or "defaults"))  # no anonymous/unsigned without allow_insecure; weakened: WARNING
    except TerminalError as err:
        reason = str(err).replace("\n", "; ")
        log.error(
            "config reload refused, keeping the running config: %s",
            reason,
            extra={"journal": {"RESULT": "reload_refused", "REASON": "invalid_config"}},
        )
        return current, reason
    changed = changed_sections(current, new)
    log.info(
        "config reloaded from %s: %s",
        path or "defaults",
        ", ".join(changed) or "no changes",
        extra={"journal": {"RESULT": "reloaded"}},
    )
    return new, None


def reload_daemon(daemon: TerminalDaemon) -> None:
    """On the frame loop: reload the config file, cancel the running session, rebuild what changed.

    An invalid file is refused (the running config stays, STATUS= says why). The member screen and voice are
    restarted when their settings, the session's or the terminal's changed.
    """
    daemon.notifier.reloading()
    new, error = reload_config(daemon.config_path, daemon.cfg)
    if error is not None:
        daemon.notifier.ready(f"config reload refused: {error[:200]}")
        return
    changed = set(changed_sections(daemon.cfg, new))
    daemon.cfg = daemon.svc.cfg = new
    daemon.coordinator.cancel("config reloaded")
    apply_changes(daemon.svc, changed, daemon._start_link)
    if changed & {"kiosk", "voice", "session", "terminal"}:
        daemon.member.stop()
        daemon.member = MemberOutputs(daemon.cfg)
        daemon.member.start(daemon)
    daemon.notifier.ready(daemon._tick(force=True))
