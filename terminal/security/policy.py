"""Safe by default: a field deployment refuses anonymous, cleartext and unchecked-TLS broker settings.

``terminal config check`` (systemd's ExecStartPre) and ``terminal run`` call :func:`enforce`; a lab or the
demo may set ``[mqtt] allow_insecure = true``, which turns each refusal into a WARNING logged at every start.
Unsigned commands need it too. Settings that weaken liveness (no challenge, no PAD, a fixed challenge seed) are
allowed (tests, calibration) but logged as a WARNING at every start, reload and ``config check``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from terminal.errors import ConfigError
from terminal.security.errors import KeyError_

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)


def insecure_settings(cfg: Config) -> list[str]:
    """The broker settings that expose the terminal, each one line naming the key."""
    from terminal.report.urls import parse_broker_url

    m = cfg.mqtt
    if not m.enabled:
        return []
    found = []
    if m.username is None and m.client_cert is None:
        found.append("mqtt.username is not set: the terminal connects anonymously (any device could pose as it)")
    plain = [u for u in m.brokers if not parse_broker_url(u).tls]
    if plain:
        found.append(
            f"mqtt.brokers: {plain[0]} is cleartext (mqtt://): credentials, templates and results "
            "cross the network readable; use mqtts://"
        )
    if m.tls_insecure:
        found.append("mqtt.tls_insecure = true: the broker's certificate is not checked (any host can pose as it)")
    return found


def weakened_settings(cfg: Config) -> list[str]:
    """Settings that make commands or liveness weaker than shipped, each one line naming the key."""
    found = []
    if cfg.mqtt.enabled and not cfg.security.require_signed_commands:
        found.append(
            "security.require_signed_commands = false: any client that can publish on this terminal's "
            "cmd/ topics can run verify, cancel and diagnose"
        )
    if not cfg.session.liveness:
        found.append("session.liveness = false: no liveness challenge; a photo of the member can match")
    if not cfg.pad.enabled:
        found.append("pad.enabled = false: no presentation-attack detection; a replayed video can match")
    elif cfg.pad.threshold is not None and cfg.pad.threshold <= 0.0:
        found.append("pad.threshold = 0: the PAD accepts every face (presentation-attack detection is off)")
    if cfg.session.seed is not None:
        found.append("session.seed is set: the liveness challenge is predictable (for tests and replays only)")
    if cfg.session.plan is not None:
        found.append("session.plan is set: the liveness challenge is fixed (for evaluating recordings only)")
    elif cfg.session.blinks_min == cfg.session.blinks_max and not cfg.session.head_turn:
        found.append(
            f"session.blinks_min = blinks_max = {cfg.session.blinks_min} without head_turn: the number of blinks "
            "asked is always the same (a recording that blinks so answers it)"
        )
    return found


def security_problems(cfg: Config) -> list[str]:
    """Unusable [security] settings: no central key while signed commands are required, unreadable keys."""
    from terminal.security.keys import load_public

    sec = cfg.security
    found = []
    if cfg.mqtt.enabled and sec.require_signed_commands and not sec.central_public_keys:
        found.append(
            "security.central_public_keys is empty while require_signed_commands = true: no command "
            "could ever be accepted (add the central system's public key PEM)"
        )
    for path in sec.central_public_keys:
        try:
            load_public(path)
        except KeyError_ as err:
            found.append(f"security.central_public_keys: {err}")
    return found


def enforce(cfg: Config, where: str = "config") -> list[str]:
    """ConfigError listing every problem; with mqtt.allow_insecure the broker ones are only logged loudly.

    Returns the warnings logged (insecure broker settings allowed, weakened commands or liveness).
    """
    problems = security_problems(cfg)
    insecure = insecure_settings(cfg)
    weakened = weakened_settings(cfg)
    for text in weakened:
        log.warning("WEAKENED: %s", text)
    if cfg.mqtt.enabled and not cfg.security.require_signed_commands and not cfg.mqtt.allow_insecure:
        problems.append(
            "security.require_signed_commands = false: unsigned commands need mqtt.allow_insecure = "
            "true as well (a lab or demo only)"
        )
    if cfg.mqtt.allow_insecure:
        for text in insecure:
            log.warning("INSECURE (mqtt.allow_insecure = true): %s", text)
    else:
        problems += [f"{t}; set mqtt.allow_insecure = true only for a lab or demo" for t in insecure]
    if problems:
        raise ConfigError("\n".join(f"{where}: {p}" for p in problems))
    return [f"INSECURE: {t}" for t in insecure] + [f"WEAKENED: {t}" for t in weakened]
