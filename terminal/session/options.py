"""A session's keyword options read from the whole config (``VerificationSession.from_config``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from terminal.errors import TerminalError

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.pad.base import PadBackend


def session_options(cfg: Config, pad: PadBackend | None) -> dict[str, Any]:
    """Terminal id, landmarker model name and version, camera mirroring, image keeping and PAD (``[pad]``, only
    with liveness on)."""
    from terminal.modelstore import spec
    from terminal.pad.factory import pad_fusion

    try:
        lm = spec(cfg.models.landmarker)
        landmarker = (lm.name, lm.version)
    except TerminalError:
        landmarker = (cfg.models.landmarker, "")
    return {
        "terminal_id": cfg.terminal.id,
        "landmarker_model": landmarker,
        "mirrored": cfg.camera.hflip,
        "keep_best": cfg.terminal.keep_images,
        "pad": pad_fusion(cfg, pad) if cfg.session.liveness else None,
    }
