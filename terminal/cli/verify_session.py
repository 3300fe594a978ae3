"""``terminal verify --source SOURCE``: one whole verification session on any frame source."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from typing import Any

from terminal.cli.common import print_json, skip_codes
from terminal.config.schema import Config

log = logging.getLogger(__name__)

# Exit codes of a session: 0 match, 1 no match as for a still; then what a still cannot end in.
EXIT_CODES = {"match": 0, "no_match": 1, "failed": 3, "timeout": 4, "cancelled": 5}


def add_session_args(p: argparse.ArgumentParser) -> None:
    """The options of the session path of ``terminal verify``."""
    p.add_argument(
        "--source",
        default=None,
        help="run a whole session on frames: replay:DIR, a video, camera, opencv:N or sim:DIR[?ambient=A]",
    )
    p.add_argument("--request-id", default=None, help="request id put in the result (default: a new uuid)")
    p.add_argument(
        "--gate-skip",
        default="",
        help="session gate checks to skip, comma-separated codes (e.g. OCCLUDED_GLASSES on grey research clips)",
    )
    p.add_argument(
        "--no-liveness", action="store_true", help="skip the liveness challenge (overrides [session] liveness)"
    )
    p.add_argument("--timeout", type=float, default=None, help="session deadline in seconds of frame time")


def _print_event(event: dict[str, Any], as_json: bool, lang: str) -> None:
    if as_json:
        print_json(event)
    elif event["type"] == "guidance":
        text = event["text"]
        other = " / ".join(v for k, v in text.items() if k != lang)
        print(f"[{event['t']:6.2f}s] {text.get(lang, event['code'])}" + (f"  ({other})" if other else ""), flush=True)
    elif event["type"] == "liveness":
        print(
            f"[{event['t']:6.2f}s] liveness {event['outcome']}" + (f": {event['reason']}" if event["reason"] else ""),
            flush=True,
        )


def run_source(args: argparse.Namespace, cfg: Config) -> int:
    """Run one session from ``args.source`` against ``args.reference``; print events, then the result."""
    from terminal.analysis.gate import QualityGate
    from terminal.camera import open_source
    from terminal.cli.reference import prepare
    from terminal.light.controller import LightController
    from terminal.light.devices import LightDevices
    from terminal.session import SessionRequest, VerificationSession, run_session

    if args.no_liveness:
        cfg = cfg.model_copy(update={"session": cfg.session.model_copy(update={"liveness": False})})
    skip = skip_codes(args.gate_skip, "--gate-skip")
    matcher, finder, template = prepare(args, cfg)
    finder.close()
    lang = cfg.session.languages[0]
    devices = LightDevices.from_config(cfg.light) if cfg.light.enabled else None
    try:
        extra: dict[str, Any] = {"devices": devices} if args.source.startswith("sim:") else {}
        source = open_source(args.source, cfg.camera, **extra)
        light = (
            LightController(cfg.light, devices, camera=source, flicker_hz=cfg.camera.flicker_hz, fps=cfg.camera.fps)
            if devices is not None
            else None
        )
        with QualityGate.from_config(cfg, mode="video", skip=skip) as gate:
            request = SessionRequest(args.request_id or str(uuid.uuid4()), template, args.timeout)
            session = VerificationSession.from_config(
                cfg,
                request,
                gate,
                matcher,
                light=light,
                devices=devices,
                emit=lambda e: _print_event(e, args.json, lang),
            )
            try:
                record = run_session(source, session, light)
            finally:
                source.stop()
    finally:
        if devices is not None:
            devices.close()
    if args.json:
        print_json(record)
    else:
        score = "" if record["score"] is None else f" score {record['score']:.4f} (threshold {record['threshold']:.4f})"
        why = f" {record['reason_code']}: {record['reason']}" if record["reason_code"] else ""
        t = record["timings"]["decision_after_face_s"]
        print(f"{record['decision']}{score}{why}" + (f", {t:.2f} s after the face appeared" if t is not None else ""))
        print(f"result {record['result_id']} liveness {record['liveness']['outcome']}", file=sys.stderr)
    return EXIT_CODES[record["decision"]]
