"""``terminal config check|show``: validate a config file (for ExecStartPre=) or print the effective one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from terminal.config import load_config


def register(sub: Any) -> None:
    """Add the ``config`` subcommand."""
    p = sub.add_parser("config", help="check or show the configuration")
    csub = p.add_subparsers(dest="config_cmd", required=True)
    check = csub.add_parser("check", help="validate a config file; exit 78 when invalid")
    check.add_argument("file", type=Path, nargs="?", default=None)
    check.set_defaults(func=_check)
    show = csub.add_parser("show", help="print the effective config (defaults filled in) as JSON")
    show.add_argument("file", type=Path, nargs="?", default=None)
    show.set_defaults(func=_show)


def _check(args: argparse.Namespace) -> int:
    from terminal.security.policy import enforce

    cfg = load_config(args.file)
    warned = enforce(cfg, str(args.file or "defaults"))  # refuses anonymous/cleartext/unsigned, unusable keys
    print(f"{args.file or 'defaults'}: OK" + (f" with {len(warned)} WARNING(s) (logged above)" if warned else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    cfg = load_config(args.file)
    print(json.dumps(cfg.model_dump(mode="json"), indent=2))
    return 0
