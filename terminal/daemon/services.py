"""Everything the daemon wires together, built complete at start (nothing optional afterwards)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from terminal.analysis.gate import QualityGate
from terminal.camera import source_from_config
from terminal.camera.base import FrameSource
from terminal.config.schema import Config
from terminal.daemon.camera_supervisor import CameraSupervisor
from terminal.daemon.light_owner import LightOwner
from terminal.matching.decision import Matcher
from terminal.matching.factory import build_matcher
from terminal.matching.template import Template, load_template
from terminal.report.ledger import RequestLedger
from terminal.report.link import MqttLink
from terminal.report.outbox import Outbox
from terminal.report.templates import default_template_validator
from terminal.security.runtime import Security

log = logging.getLogger(__name__)

SourceFactory = Callable[[Config], FrameSource]


def default_source_factory(cfg: Config) -> FrameSource:
    """The configured camera; a replay is paced like a camera and loops, as a daemon needs."""
    if cfg.camera.backend == "replay":
        return source_from_config(cfg.camera, realtime=True, loop=True)
    return source_from_config(cfg.camera)


@dataclass
class Services:
    """The daemon's parts. Only the frame loop touches camera, light, gate, matcher and the session."""

    cfg: Config
    outbox: Outbox
    ledger: RequestLedger
    link: MqttLink
    gate: QualityGate
    matcher: Matcher
    light: LightOwner
    camera: CameraSupervisor
    walkup: Template | None


def open_link(cfg: Config, outbox: Outbox, matcher: Matcher) -> MqttLink:
    """The MQTT link; it refuses a verify whose template another model made (WRONG_MODEL) before queueing it."""
    emb = matcher.embedder
    validator = default_template_validator(model=emb.name, version=emb.version, dim=emb.dim)
    return MqttLink(
        cfg.mqtt, cfg.terminal.id, outbox, template_validator=validator, security=Security.from_config(cfg)
    )  # signs results, opens signed commands


def load_walkup(cfg: Config, matcher: Matcher) -> Template | None:
    """The walk-up reference template, or None when walk-up mode is off."""
    path = cfg.daemon.walkup_reference
    if path is None:
        return None
    emb = matcher.embedder
    template = load_template(path, model=emb.name, version=emb.version, dim=emb.dim)
    log.info("walk-up mode: a session starts when a face appears (reference %s)", path.name)
    return template


def build_services(
    cfg: Config, source_factory: SourceFactory, pin_factory: Any, status: Callable[[str], Any]
) -> Services:
    """Open the outbox, load the models, build the link (not started), claim the light, prepare the camera."""
    status("starting: opening outbox")
    outbox = Outbox.from_config(cfg.outbox, cfg.terminal.state_dir)
    ledger = RequestLedger(outbox, keep_s=2 * max(cfg.mqtt.deadline_horizon_s, cfg.mqtt.command_dedup_ttl_s))
    status("starting: loading models")
    gate = QualityGate.from_config(cfg, mode="video")
    matcher = build_matcher(cfg)
    link = open_link(cfg, outbox, matcher)
    camera = CameraSupervisor(
        lambda: source_factory(svc.cfg), cfg.daemon.camera_retry_min_s, cfg.daemon.camera_retry_max_s
    )
    svc = Services(
        cfg, outbox, ledger, link, gate, matcher, LightOwner(cfg.light, pin_factory), camera, load_walkup(cfg, matcher)
    )
    return svc
