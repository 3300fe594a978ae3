"""Entry point of the ``terminal`` command: parse, set up logging, dispatch, turn errors into one line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from terminal import __version__
from terminal.errors import TerminalError
from terminal.logsetup import setup_logging
from terminal.nativelog import NativeLogFilter

log = logging.getLogger(__name__)

# Each module has register(subparsers); a subcommand sets args.func(args) -> int.
COMMANDS = [
    "terminal.cli.config_cmd",
    "terminal.cli.record",
    "terminal.cli.replay",
    "terminal.cli.monitor",
    "terminal.cli.outbox",
    "terminal.cli.light",
    "terminal.cli.enroll",
    "terminal.cli.verify",
    "terminal.cli.calibrate",
    "terminal.cli.evaluate",
    "terminal.cli.analyze",
    "terminal.cli.diagnose",
    "terminal.cli.voice",
    "terminal.cli.run",
    "terminal.cli.keys",
    "terminal.cli.signing",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="terminal", description="Face-verification capture terminal")
    parser.add_argument("--version", action="version", version=f"terminal {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (debug also shows tracebacks)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or "warning"
    setup_logging(level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if level == "debug" or args.command == "run":  # the daemon keeps every line (see terminal.nativelog)
            return int(args.func(args) or 0)
        with NativeLogFilter():
            return int(args.func(args) or 0)
    except TerminalError as err:
        if level == "debug":
            log.exception("failed")
        print(f"terminal {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as err:  # a file the command was asked to read or write: one line, not a traceback
        if level == "debug":
            log.exception("failed")
        where = f" {err.filename}" if err.filename else ""
        print(f"terminal {args.command}: error:{where}: {err.strerror or err}", file=sys.stderr)
        return 74  # EX_IOERR


if __name__ == "__main__":
    raise SystemExit(main())
