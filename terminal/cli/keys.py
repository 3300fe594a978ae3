"""``terminal keys init|show``: the terminal's Ed25519 signing key (created at install, shown for enrolment)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json
from terminal.security import keys


def register(sub: Any) -> None:
    """Add the ``keys`` subcommand."""
    p = sub.add_parser("keys", help="the terminal's signing key: create it, show its public half")
    ksub = p.add_subparsers(dest="keys_cmd", required=True)
    init = ksub.add_parser("init", help="create the Ed25519 key (0600) unless one exists; prints where it is")
    init.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write here instead (e.g. /etc/terminal/credentials/terminal_key, or a central key)",
    )
    add_config_arg(init)
    init.set_defaults(func=_init)
    show = ksub.add_parser("show", help="print the public key (PEM) and key id for enrolment at the central system")
    show.add_argument("--json", action="store_true", help="one JSON object with public_key_pem, kid, terminal_id")
    show.add_argument("--key", type=Path, default=None, help="show this key file instead of the terminal's")
    add_config_arg(show)
    show.set_defaults(func=_show)


def _terminal_key(args: argparse.Namespace) -> tuple[Path, str]:
    cfg = config_from_args(args)
    return keys.terminal_key_path(cfg.terminal.state_dir, cfg.security.key_file), cfg.terminal.id


def _init(args: argparse.Namespace) -> int:
    path = args.out
    if path is None:
        path, _ = _terminal_key(args)
    if path.exists():
        kid = keys.thumbprint(keys.load_private(path).public_key())
        print(f"{path}: exists (kid {kid}); not replaced")
        return 0
    key = keys.generate()
    keys.write_private(path, key)
    print(
        f"{path}: new Ed25519 key, mode {oct(os.stat(path).st_mode & 0o777)} (kid {keys.thumbprint(key.public_key())})"
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    path, terminal_id = _terminal_key(args) if args.key is None else (args.key, None)
    public = keys.load_public(path)
    pem, kid = keys.public_pem(public), keys.thumbprint(public)
    if args.json:
        print_json(
            {
                "terminal_id": terminal_id,
                "algorithm": "Ed25519",
                "kid": kid,
                "public_key_pem": pem,
                "key_file": str(path),
            }
        )
    else:
        print(pem, end="")
        print(f"# kid {kid}" + (f", terminal {terminal_id}" if terminal_id else ""))
    return 0
