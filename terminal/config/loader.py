"""Load and validate the TOML config; errors name the file, the key path and what is allowed."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from terminal.config.paths import resolve_paths
from terminal.config.schema import Config
from terminal.errors import ConfigError

DEFAULT_PATH = Path("/etc/terminal/config.toml")
ENV_PATH = "TERMINAL_CONFIG"


def default_config_path() -> Path | None:
    """The config file to use when none is given: $TERMINAL_CONFIG, else /etc/terminal/config.toml if present."""
    env = os.environ.get(ENV_PATH)
    if env:
        return Path(env)
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def _allowed_keys(model: type[Any], loc: tuple[Any, ...]) -> list[str]:
    """Walk the schema along ``loc`` (minus its last element) and list the keys allowed there."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = fields[part].annotation
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def format_validation_error(err: ValidationError, where: str) -> str:
    """Turn a pydantic error into lines of ``file: key.path: problem (allowed ...)``."""
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(Config, loc)
            hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{where}: unknown key '{key}'{hint}")
        else:
            got = e.get("input")
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
            lines.append(f"{where}: {key}: {e['msg']}{shown}")
    return "\n".join(lines)


def config_from_dict(data: dict[str, Any], where: str = "<config>") -> Config:
    """Validate a parsed mapping against the schema."""
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, where)) from None


def load_config(path: Path | str | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Read ``path`` (or the default), apply dotted ``overrides`` and validate; ConfigError on any problem."""
    data: dict[str, Any] = {}
    where = "<defaults>"
    if path is None:
        path = default_config_path()
    if path is not None:
        p = Path(path)
        where = str(p)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found (copy config.example.toml there or pass --config)") from None
        except PermissionError:
            raise ConfigError(f"{p}: cannot read config file (permission denied)") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{p}: not valid TOML: {err}") from None
        resolve_paths(data, Config, p.resolve().parent)  # relative paths in a file mean "beside the file"
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)
    return config_from_dict(data, where)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c = value`` inside nested dicts, creating levels as needed."""
    parts = dotted.split(".")
    cur = data
    for part in parts[:-1]:
        nxt = cur.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"override {dotted}: '{part}' is not a section")
        cur = nxt
    cur[parts[-1]] = value
