"""Relative paths in a config file mean "beside this file", wherever the command runs from.

``examples/demo.toml`` names ``../var`` and a clip under ``../../shared``; they resolve against
``examples/``, so ``terminal run --config examples/demo.toml`` works from any directory. Paths given on the
command line (overrides) stay relative to the current directory, as a shell user expects.
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

# [camera] source is a string, not a Path: for these backends it names a file or folder.
_PATH_SOURCES = {"replay"}


def _is_path(annotation: Any) -> bool:
    if annotation is Path:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_path(a) for a in typing.get_args(annotation))
    return False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _absolute(value: str, base: Path) -> str:
    p = Path(value).expanduser()
    return os.path.normpath(p if p.is_absolute() else base / p)


def resolve_paths(data: dict[str, Any], model: type[BaseModel], base: Path) -> dict[str, Any]:
    """Make the relative path values of ``data`` (a parsed config file) absolute against ``base``, in place."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        value = data.get(key)
        if isinstance(value, str) and value and _is_path(info.annotation):
            data[key] = _absolute(value, base)
        elif isinstance(value, dict) and (sub := _model_of(info.annotation)) is not None:
            resolve_paths(value, sub, base)
    camera = data.get("camera")
    if isinstance(camera, dict) and camera.get("backend", "replay") in _PATH_SOURCES:
        source = camera.get("source")
        if isinstance(source, str) and source:
            camera["source"] = _absolute(source, base)
    return data
