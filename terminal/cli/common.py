"""Helpers shared by the subcommands: config loading, JSON output, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from terminal.config import Config, load_config

T = TypeVar("T")


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    """Add the common ``--config FILE`` option."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $TERMINAL_CONFIG or /etc/terminal/config.toml, else built-in defaults)",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    """Load the config named by ``--config`` (or the default); raises ConfigError."""
    return load_config(getattr(args, "config", None))


def skip_codes(text: str | None, option: str = "--skip") -> list[str]:
    """Gate codes from a ``--skip A,B`` option; UsageError (exit 2) names the option and the unknown code."""
    from terminal.analysis.codes import parse_codes
    from terminal.errors import UsageError

    try:
        return parse_codes(text)
    except ValueError as err:
        raise UsageError(f"{option}: {err}") from None


def ensure_parent(path: Path, private: bool = False) -> Path:
    """Create the folder ``path`` goes into (owner-only when ``private``); one-line TerminalError if impossible."""
    from terminal.errors import TerminalError

    parent = Path(path).parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
        except OSError as err:
            raise TerminalError(f"cannot create folder {parent} for {Path(path).name}: {err.strerror}") from None
        print(f"created folder {parent}", file=sys.stderr)
    return Path(path)


def print_json(obj: Any) -> None:
    """Print one compact JSON line and flush (consumers read line by line)."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):
        return o.item()  # numpy scalars
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """Wrap ``items`` in a tqdm bar on stderr when stderr is a terminal; plain iteration otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False)
