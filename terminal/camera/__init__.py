"""Frame sources behind one interface, with named backends like gpiozero's pin factories.

``open_source(spec, config)`` picks a backend from a spec string: ``replay:PATH`` (or a bare path),
``opencv:INDEX|PATH``, ``picamera2``, ``camera`` (picamera2 if importable, else OpenCV device 0) or
``sim:PATH`` (the simulated lighting scene of terminal.light). Backends are imported only when used.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame, mean_luma
from terminal.errors import SourceError

if TYPE_CHECKING:
    from terminal.config.schema import CameraConfig

__all__ = ["BACKENDS", "Frame", "FrameSource", "mean_luma", "open_source", "source_from_config"]

# name -> "module:function(arg, camera_config, **kw) -> FrameSource"
BACKENDS = {
    "replay": "terminal.camera.factories:replay",
    "opencv": "terminal.camera.factories:opencv",
    "picamera2": "terminal.camera.factories:picamera2",
    "sim": "terminal.light.simscene:open_sim_source",
}


def _load(backend: str) -> Any:
    target = BACKENDS.get(backend)
    if target is None:
        raise SourceError(f"unknown frame source backend '{backend}' (known: {', '.join(sorted(BACKENDS))})")
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def open_source(spec: str, config: CameraConfig | None = None, **kwargs: Any) -> FrameSource:
    """Build a FrameSource from a spec string such as ``replay:DIR``, ``opencv:0``, ``camera`` or a path."""
    from terminal.config.schema import CameraConfig

    cfg = config or CameraConfig()
    backend, _, arg = spec.partition(":")
    if spec == "camera":
        backend = "picamera2" if importlib.util.find_spec("picamera2") else "opencv"
        arg = "0"
    elif backend not in BACKENDS or (len(backend) == 1 and Path(spec).exists()):
        backend, arg = "replay", spec  # a bare path (also C:\ style) replays it
    return _load(backend)(arg, cfg, **kwargs)


def source_from_config(config: CameraConfig, **kwargs: Any) -> FrameSource:
    """Build the FrameSource the ``[camera]`` section describes."""
    return _load(config.backend)(config.source, config, **kwargs)
