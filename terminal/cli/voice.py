"""``terminal voice list|render|play CODE``: the spoken prompts (espeak-ng, cached WAVs, aplay)."""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

from terminal.cli.common import add_config_arg, config_from_args, print_json


def register(sub: Any) -> None:
    """Add the ``voice`` subcommand and its actions."""
    p = sub.add_parser("voice", help="list, render or play the voice prompts")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="every prompt code, its Indonesian text and whether it is rendered")
    ls.add_argument("--json", action="store_true")
    rd = acts.add_parser("render", help="render every prompt into the cache now (install or first start)")
    rd.add_argument("--force", action="store_true", help="render again even if cached")
    pl = acts.add_parser("play", help="say one prompt through the configured ALSA device")
    pl.add_argument("code", help="a prompt code (terminal voice list), e.g. LIVENESS_BLINK or RESULT_TIMEOUT+TOO_DARK")
    pl.add_argument("--device", default=None, help="ALSA PCM instead of [voice] device (aplay -D)")
    for a in (ls, rd, pl):
        add_config_arg(a)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch the voice action."""
    from terminal.voice.player import APLAY, probe_device
    from terminal.voice.prompts import PromptCache, VoiceError, codes, prompt_text

    cfg = config_from_args(args)
    cache = PromptCache.from_config(cfg.voice, cfg.terminal.state_dir)
    if args.action == "list":
        rows: list[dict[str, Any]] = [
            {
                "code": c,
                "text": prompt_text(c, "id"),
                "english": prompt_text(c, "en"),
                "rendered": cache.path(c).exists(),
            }
            for c in codes()
        ]
        if args.json:
            for r in rows:
                print_json(r)
        else:
            for r in rows:
                print(f"{r['code']:<22} {'*' if r['rendered'] else ' '} {r['text']}")
            print(f"({sum(1 for r in rows if r['rendered'])}/{len(rows)} rendered in {cache.dir}; * = cached)")
        return 0
    if args.action == "render":
        t0 = time.monotonic()
        if args.force:
            for c in codes():
                cache.render(c)
        paths = cache.render_all()
        print(f"{len(paths)} prompts in {cache.dir} ({time.monotonic() - t0:.1f} s)")
        return 0
    device = args.device or cfg.voice.device
    path = cache.get(args.code)  # VoiceError (one line) for an unknown code
    problem = probe_device(device, cache.dir)
    if problem is not None:
        raise VoiceError(problem)
    res = subprocess.run([APLAY, "-q", "-D", device, str(path)], capture_output=True, check=False)
    if res.returncode != 0:
        raise VoiceError(f"aplay failed: {res.stderr.decode(errors='replace').strip()[-200:]}")
    print(f"{args.code}: {prompt_text(args.code, 'id')}")
    return 0
