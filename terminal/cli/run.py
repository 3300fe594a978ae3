"""``terminal run``: the daemon (systemd runs this; also handy in a shell with a replay camera)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from terminal.cli.common import add_config_arg
from terminal.config import default_config_path, load_config
from terminal.errors import UsageError

DAEMON_BACKENDS = ("replay", "opencv", "picamera2")  # [camera] backend values


def register(sub: Any) -> None:
    """Add the ``run`` subcommand."""
    p = sub.add_parser("run", help="run the terminal service (camera, gate, light, sessions, MQTT)")
    add_config_arg(p)
    p.add_argument(
        "--source",
        default=None,
        help="override [camera]: replay:DIR, a video, opencv:0, picamera2, ... (replay loops in real time)",
    )
    p.add_argument(
        "--walkup-reference",
        type=Path,
        default=None,
        help="walk-up mode with this reference template (overrides [daemon] walkup_reference)",
    )
    p.add_argument("--state-dir", type=Path, default=None, help="override [terminal] state_dir (outbox location)")
    p.add_argument("--max-sessions", type=int, default=None, help="stop cleanly after N sessions (demos, tests)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load and check the config, then serve until SIGTERM."""
    from terminal.daemon.app import TerminalDaemon

    path = args.config or default_config_path()
    overrides: dict[str, Any] = {}
    if args.source:
        from terminal.camera import parse_source_spec

        backend, arg = parse_source_spec(args.source)
        if backend not in DAEMON_BACKENDS:
            raise UsageError(f"--source {args.source}: the daemon's camera is one of {', '.join(DAEMON_BACKENDS)}")
        overrides.update({"camera.backend": backend, "camera.source": arg})
    if args.walkup_reference:
        overrides["daemon.walkup_reference"] = str(args.walkup_reference)
    if args.state_dir:
        overrides["terminal.state_dir"] = str(args.state_dir)
    cfg = load_config(path, overrides)
    from terminal.security.policy import enforce

    enforce(cfg, str(path or "defaults"))  # safe by default: no anonymous/cleartext broker, keys usable
    if args.log_level is None:
        from terminal.logsetup import setup_logging

        setup_logging(cfg.logging.level)  # a service logs at its configured level, not the CLI's quiet default
    return TerminalDaemon(cfg, path, max_sessions=args.max_sessions).run()
