"""Build the configured PAD backend (once per process) and a session's fusion at the calibrated threshold."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from terminal.pad.base import PadBackend, PadFusion
from terminal.pad.calibration import resolve_pad_threshold

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)


@functools.cache
def _cached(backend: str, models: tuple[str, ...], models_dir: Path | None, runtime: str, threads: int) -> PadBackend:
    from terminal.pad.minifasnet import load_minifasnet

    if backend != "minifasnet":  # the config schema allows only known backends; guard for direct callers
        raise ValueError(f"unknown PAD backend {backend}")
    return load_minifasnet(models, models_dir, runtime, threads)


def load_pad_backend(cfg: Config) -> PadBackend:
    """The configured PAD backend, loaded once per process (sha256-checked models)."""
    p = cfg.pad
    return _cached(p.backend, tuple(p.models), cfg.models.dir, p.runtime, p.threads)


def pad_fusion(cfg: Config, backend: PadBackend | None = None) -> PadFusion | None:
    """A fresh per-session fusion, or None when PAD is off."""
    if not cfg.pad.enabled:
        return None
    be = backend or load_pad_backend(cfg)
    threshold, _source = resolve_pad_threshold(cfg, be.name)
    return PadFusion(
        be,
        threshold,
        frames=cfg.pad.frames,
        every=cfg.pad.every,
        min_sharpness=cfg.pad.min_sharpness,
        soft_view=(cfg.pad.soft_view_sharpness, cfg.pad.soft_view_threshold),
    )
