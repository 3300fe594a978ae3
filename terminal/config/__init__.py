"""Typed configuration: one schema, validated at start."""

from terminal.config.loader import config_from_dict, default_config_path, load_config
from terminal.config.schema import Config

__all__ = ["Config", "config_from_dict", "default_config_path", "load_config"]
