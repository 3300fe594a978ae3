"""The central system's halves: ``terminal sign-command`` and ``terminal verify-result`` (operators, tests)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from terminal.cli.common import print_json
from terminal.errors import ConfigError
from terminal.security import keys
from terminal.security.canonical import strict_loads
from terminal.security.envelope import sign_command
from terminal.security.errors import SignatureError
from terminal.security.keyring import load_keyring, parse_key_arg, verify_bound

MAX_INPUT = 4 * 1024 * 1024
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_TERMINAL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def register(sub: Any) -> None:
    """Add ``sign-command`` and ``verify-result``."""
    s = sub.add_parser(
        "sign-command",
        help="central side: sign a command read from stdin; prints the payload to publish on <prefix>/cmd/NAME",
    )
    s.add_argument("--key", type=Path, required=True, help="the central system's Ed25519 private key (PEM)")
    s.add_argument("--terminal", required=True, help="terminal id the command is for (signed)")
    s.add_argument(
        "--command", dest="command_name", required=True, help="command name: verify, cancel, diagnose, ping (signed)"
    )
    s.add_argument("--ttl", type=float, default=600.0, help="seconds the signature stays valid (default %(default)s)")
    s.set_defaults(func=_sign)
    v = sub.add_parser(
        "verify-result",
        help="central side: check a result payload from stdin exactly as "
        "received; exit 0 only when the signature is valid",
    )
    v.add_argument(
        "--key",
        action="append",
        default=[],
        help="TERMINAL_ID=PUBLIC.pem: a terminal's public key, bound to its id (repeat for several); "
        "a bare PUBLIC.pem only alone and with --terminal",
    )
    v.add_argument(
        "--keyring",
        type=Path,
        default=None,
        help="JSON (or .toml) file mapping terminal id -> public key PEM path (or a list of paths)",
    )
    v.add_argument("--request-id", default=None, help="also require this request id (a replay for another fails)")
    v.add_argument("--terminal", default=None, help="also require this terminal id")
    v.add_argument("--json", action="store_true", help="print the verified result as one JSON line")
    v.set_defaults(func=_verify)


def _stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise ConfigError(f"stdin: more than {MAX_INPUT} bytes")
    return data


def _sign(args: argparse.Namespace) -> int:
    if not _NAME.fullmatch(args.command_name):
        raise ConfigError(f"--command {args.command_name[:40]!r}: not a command name")
    if not _TERMINAL.fullmatch(args.terminal):
        raise ConfigError(f"--terminal {args.terminal[:70]!r}: not a terminal id")
    if not 0 < args.ttl <= 7 * 86400:
        raise ConfigError("--ttl must be within (0, 604800] seconds")
    key = keys.load_private(args.key)
    try:
        command = strict_loads(_stdin())
    except ValueError as err:
        raise ConfigError(f"stdin: not a JSON command ({err})") from None
    print_json(sign_command(command, key, terminal_id=args.terminal, name=args.command_name, ttl_s=args.ttl))
    return 0


def _verify(args: argparse.Namespace) -> int:
    ring = [parse_key_arg(k) for k in args.key]
    if args.keyring is not None:
        ring += load_keyring(args.keyring)
    if not ring:
        raise ConfigError("verify-result: give --key TERMINAL_ID=PUBLIC.pem (repeatable) or --keyring FILE")
    raw = _stdin()
    try:
        result = verify_bound(raw, ring, terminal=args.terminal)
        for field, want in (("request_id", args.request_id), ("terminal_id", args.terminal)):
            if want is not None and result.get(field) != want:
                raise SignatureError("wrong_target", f"{field} is {str(result.get(field))[:70]!r}, not {want!r}")
    except SignatureError as err:
        print(f"INVALID ({err.reason}): {err}", file=sys.stderr)
        return 1
    if args.json:
        print_json(result)
    else:
        print(
            f"valid: result {result.get('result_id')} request {result.get('request_id')} terminal "
            f"{result.get('terminal_id')} decision {json.dumps(result.get('decision'))}"
        )
    return 0
