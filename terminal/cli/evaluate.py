"""``terminal evaluate``: accuracy reports; each kind (quality, match, ...) is a module registering into it."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

# "module" (calls its register(sub)) or "module:function"; each adds one KIND parser and sets args.func.
EVALUATIONS = [
    "terminal.cli.evaluate_quality",
    "terminal.cli.evaluate_match:register_match",
    "terminal.cli.evaluate_edc",
    "terminal.cli.evaluate_pad:register_pad",
]


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand and its sub-subcommands."""
    p = sub.add_parser("evaluate", help="measure accuracy on a labelled data set (quality, match, edc, pad)")
    inner = p.add_subparsers(dest="evaluation", metavar="KIND")
    for entry in EVALUATIONS:
        module, _, func = entry.partition(":")
        getattr(importlib.import_module(module), func or "register")(inner)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)
