"""Typed configuration: one schema, validated at start.

The names are loaded lazily: every package's settings module imports ``terminal.config.base``, and the schema
imports those settings modules, so an eager import here would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.config.loader import config_from_dict, default_config_path, load_config
    from terminal.config.schema import Config

__all__ = ["Config", "config_from_dict", "default_config_path", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "Config":
        from terminal.config.schema import Config

        return Config
    if name in ("config_from_dict", "default_config_path", "load_config"):
        from terminal.config import loader

        return getattr(loader, name)
    raise AttributeError(name)
