"""``terminal diagnose`` audio check: is the voice on, does espeak-ng render, does the ALSA device open."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from terminal.voice.player import probe_device
from terminal.voice.prompts import ESPEAK, PromptCache, VoiceError

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.diagnostics.report import CheckResult


def check_audio(cfg: Config) -> CheckResult:
    """warn when the voice is enabled but silent (no device, no espeak-ng); the terminal works without it."""
    from terminal.diagnostics.report import CheckResult

    v = cfg.voice
    details = {"enabled": v.enabled, "device": v.device, "voice": v.voice, "espeak_ng": shutil.which(ESPEAK)}
    cache = PromptCache.from_config(v, cfg.terminal.state_dir)
    problem = probe_device(v.device, cache.dir)
    details["device_ok"] = problem is None
    if not v.enabled:
        state = "audio device ok" if problem is None else problem
        return CheckResult("audio", "pass", f"voice prompts off in config ({state})", details)
    if problem is not None:
        return CheckResult("audio", "warn", f"voice prompts are silent: {problem}", details)
    if details["espeak_ng"] is None:
        return CheckResult("audio", "warn", "voice prompts are silent: espeak-ng is not installed", details)
    try:
        cache.get("HOLD_STILL")
    except VoiceError as err:
        return CheckResult("audio", "warn", f"voice prompts are silent: {err}", details)
    return CheckResult(
        "audio", "pass", f"aplay -D {v.device} opens; voice {v.voice}, prompts cached in {cache.dir}", details
    )
