"""Build the matching pieces from the config: embedder, calibrated matcher, face finder."""

from __future__ import annotations

import logging

from terminal.config.schema import Config
from terminal.matching.calibration import resolve_threshold
from terminal.matching.decision import Matcher
from terminal.matching.embedder import Embedder, load_embedder

log = logging.getLogger(__name__)


def build_matcher(cfg: Config, embedder: Embedder | None = None, threshold: float | None = None) -> Matcher:
    """A Matcher with the configured embedder and fusion at the calibrated threshold (or ``threshold``)."""
    emb = embedder or load_embedder(cfg)
    if threshold is None:
        threshold, source = resolve_threshold(cfg, emb)
    else:
        source = "command line"
    log.info("matcher: %s at threshold %.4f (%s), fusion %s", emb.name, threshold, source, cfg.matching.fusion)
    return Matcher(emb, threshold, fusion=cfg.matching.fusion)
