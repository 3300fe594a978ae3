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

__all__ = ["BACKENDS", "Frame", "FrameSource", "mean_luma", "open_source", "parse_source_spec", "source_from_config"]

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


def parse_source_spec(spec: str) -> tuple[str, str]:
    """The one reading of a source spec: ``(backend, argument)``.

    ``replay:PATH``, ``opencv:INDEX|PATH``, ``picamera2``, ``sim:PATH``; ``camera`` is picamera2 when it is
    importable, else OpenCV device 0; anything else (a bare path, also ``C:\\...``) replays that path.
    """
    backend, _, arg = spec.partition(":")
    if spec == "camera":
        return ("picamera2" if importlib.util.find_spec("picamera2") else "opencv"), "0"
    if backend not in BACKENDS or (len(backend) == 1 and Path(spec).exists()):
        return "replay", spec
    return backend, arg


def open_source(spec: str, config: CameraConfig | None = None, **kwargs: Any) -> FrameSource:
    """Build a FrameSource from a spec string such as ``replay:DIR``, ``opencv:0``, ``camera`` or a path."""
    from terminal.config.schema import CameraConfig

    backend, arg = parse_source_spec(spec)
    return _load(backend)(arg, config or CameraConfig(), **kwargs)


def source_from_config(config: CameraConfig, **kwargs: Any) -> FrameSource:
    """Build the FrameSource the ``[camera]`` section describes."""
    return _load(config.backend)(config.source, config, **kwargs)
