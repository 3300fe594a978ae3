"""Prompt texts and their WAV cache: each prompt rendered once with espeak-ng, reused on every playback.

A prompt code is a guidance or screen code (``TOO_DARK``, ``RESULT_MATCH``) or a result with its reason
(``RESULT_TIMEOUT+TOO_DARK``: "Waktu habis. Wajah terlalu gelap"). The file name carries a hash of the text,
voice, speed and amplitude, so a changed setting or text renders a new file instead of playing a stale one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from terminal.errors import TerminalError
from terminal.kiosk.texts import ALL_TEXTS, REASONS
from terminal.voice.settings import VoiceConfig

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
# Codes worth saying: every guidance and screen text except the ones only read on the screen.
SILENT = frozenset({"SCREEN_IDLE", "SCREEN_IDLE_WALKUP"})


class VoiceError(TerminalError):
    """A prompt could not be rendered or played."""

    exit_code = 69  # EX_UNAVAILABLE


def codes() -> list[str]:
    """Every single prompt code that can be spoken, in a stable order."""
    return [c for c in ALL_TEXTS if c not in SILENT]


def prompt_text(code: str, lang: str = "id") -> str:
    """The spoken sentence of ``code`` (``A+B`` = A's text, then B's reason in plain words)."""
    head, _, reason = code.partition("+")
    entry = ALL_TEXTS.get(head)
    if entry is None:
        raise VoiceError(f"unknown prompt code {head!r} (terminal voice list)")
    parts = [entry.get(lang) or entry["id"]]
    if reason:
        r = REASONS.get(reason) or ALL_TEXTS.get(reason)
        if r is None:
            raise VoiceError(f"unknown reason code {reason!r}")
        parts.append(r.get(lang) or r["id"])
    return ". ".join(parts)


class PromptCache:
    """WAV files of rendered prompts under ``cache_dir``; renders a missing one on demand."""

    def __init__(self, cfg: VoiceConfig, cache_dir: Path) -> None:
        self.cfg = cfg
        self.dir = Path(cache_dir)

    @classmethod
    def from_config(cls, cfg: VoiceConfig, state_dir: Path) -> PromptCache:
        """The cache of ``[voice]`` (default ``<state_dir>/voice``)."""
        return cls(cfg, cfg.cache_dir or Path(state_dir) / "voice")

    def _key(self, code: str, amplitude: int) -> str:
        texts = [prompt_text(code, "id")] + ([prompt_text(code, "en")] if self.cfg.english else [])
        raw = "\n".join([self.cfg.voice, str(self.cfg.speed_wpm), str(amplitude), *texts])
        return hashlib.sha1(raw.encode()).hexdigest()[:12]

    def path(self, code: str, amplitude: int | None = None) -> Path:
        """Where the WAV of ``code`` at ``amplitude`` (default: the configured volume) lives."""
        amp = self.cfg.volume if amplitude is None else amplitude
        safe = code.replace("+", "__")
        return self.dir / f"{safe}-{self._key(code, amp)}.wav"

    def get(self, code: str, amplitude: int | None = None) -> Path:
        """The WAV of ``code``, rendered now if it is not cached yet."""
        p = self.path(code, amplitude)
        if not p.exists():
            self.render(code, amplitude)
        return p

    def render(self, code: str, amplitude: int | None = None) -> Path:
        """Render ``code`` with espeak-ng (Indonesian, then English if configured) into the cache."""
        amp = self.cfg.volume if amplitude is None else amplitude
        target = self.path(code, amp)
        if shutil.which(ESPEAK) is None:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        self.dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            parts = [self._espeak(prompt_text(code, "id"), self.cfg.voice, amp, Path(tmp) / "id.wav")]
            if self.cfg.english:
                parts.append(self._espeak(prompt_text(code, "en"), "en", amp, Path(tmp) / "en.wav"))
            out = Path(tmp) / "out.wav"
            _concat(parts, out, gap_s=0.4)
            os.replace(out, target)  # atomic: a player never sees half a file
        return target

    def render_all(self) -> list[Path]:
        """Render every prompt at the normal and the quiet-hours volume (cached ones are kept)."""
        amps = {self.cfg.volume} | ({self.cfg.quiet_volume} if self.cfg.quiet_hours else set())
        return [self.get(c, a) for c in codes() for a in sorted(amps) if a > 0]

    def _espeak(self, text: str, voice: str, amp: int, out: Path) -> Path:
        cmd = [ESPEAK, "-v", voice, "-s", str(self.cfg.speed_wpm), "-a", str(amp), "-w", str(out), text]
        try:
            res = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise VoiceError(f"espeak-ng failed: {err}") from None
        if res.returncode != 0 or not out.exists():
            msg = res.stderr.decode(errors="replace").strip().splitlines()
            raise VoiceError(f"espeak-ng -v {voice} failed: {msg[-1] if msg else res.returncode}")
        return out


def _concat(parts: list[Path], out: Path, gap_s: float) -> None:
    """Join WAVs of the same format with ``gap_s`` of silence in between."""
    with wave.open(str(parts[0]), "rb") as first:
        params = first.getparams()
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        for i, p in enumerate(parts):
            with wave.open(str(p), "rb") as r:
                if i:
                    w.writeframes(b"\0" * int(gap_s * params.framerate) * params.sampwidth * params.nchannels)
                w.writeframes(r.readframes(r.getnframes()))
