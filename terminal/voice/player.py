"""The voice player: one thread that speaks the current prompt with aplay, never blocking the frame loop.

The frame loop calls ``say(code)`` with the prompt it wants (already debounced like the screen text); the
call only stores the code and sets an event. The player thread starts ``aplay`` on the cached WAV, cuts a
prompt short when a new one is wanted (the newest instruction is the one that matters), repeats the same
prompt after ``repeat_after_s`` of silence (at most ``max_repeats`` times) for members who need it, uses the
quiet-hours volume at night, and does nothing at all when the audio device does not open.
"""

from __future__ import annotations

import collections
import logging
import subprocess
import threading
import time
import wave
from datetime import datetime
from pathlib import Path

from terminal.voice.prompts import PromptCache, VoiceError
from terminal.voice.settings import VoiceConfig

log = logging.getLogger(__name__)

APLAY = "aplay"


def in_quiet_hours(spec: str | None, now: datetime) -> bool:
    """True if ``now`` (local time) falls in ``HH:MM-HH:MM`` (which may wrap past midnight)."""
    if not spec:
        return False
    a, b = spec.split("-")
    start = int(a[:2]) * 60 + int(a[3:])
    end = int(b[:2]) * 60 + int(b[3:])
    m = now.hour * 60 + now.minute
    return start <= m < end if start <= end else (m >= start or m < end)


def probe_device(device: str, scratch: Path) -> str | None:
    """None if ALSA opens ``device`` (a 20 ms silent WAV is played), else the reason in one line."""
    scratch.mkdir(parents=True, exist_ok=True)
    silent = scratch / "probe-silence.wav"
    if not silent.exists():
        with wave.open(str(silent), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(22050)
            w.writeframes(b"\0\0" * 441)
    try:
        res = subprocess.run([APLAY, "-q", "-D", device, str(silent)], capture_output=True, timeout=5, check=False)
    except FileNotFoundError:
        return "aplay is not installed (apt-get install alsa-utils)"
    except subprocess.TimeoutExpired:
        return f"aplay -D {device} did not finish within 5 s"
    if res.returncode != 0:
        lines = res.stderr.decode(errors="replace").strip().splitlines()
        return f"no audio device: aplay -D {device}: {lines[-1] if lines else res.returncode}"
    return None


class VoicePlayer:
    """Speaks prompts in its own thread; ``say`` is safe and cheap to call from the frame loop."""

    def __init__(self, cfg: VoiceConfig, cache: PromptCache) -> None:
        self.cfg = cfg
        self.cache = cache
        self.available = False
        self.problem: str | None = None
        self.latencies: collections.deque[tuple[str, float]] = collections.deque(maxlen=200)
        self.played: collections.deque[str] = collections.deque(maxlen=200)
        self._wanted: str | None = None
        self._wanted_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._current: str | None = None
        self._ended_at: float | None = None
        self._repeats = 0
        self._failed: set[str] = set()

    def start(self) -> None:
        """Probe the device and pre-render the prompts in the player thread; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop speaking and end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._kill()

    def say(self, code: str | None) -> None:
        """Want ``code`` spoken now (None: silence). Frame loop: stores and signals, never blocks."""
        if code != self._wanted:
            self._wanted = code
            self._wanted_at = time.monotonic()
            self._wake.set()

    # ------------------------------------------------------------------ player thread
    def _run(self) -> None:
        self.problem = probe_device(self.cfg.device, self.cache.dir)
        if self.problem is not None:
            log.info("voice prompts off: %s", self.problem)  # silently off: terminal diagnose reports it
            return
        self.available = True
        # Prompts not cached yet are rendered one at a time between prompts (~60 ms each), so the first
        # prompt after a start is never held up by rendering all the others.
        todo = self._to_render()
        while not self._stop.is_set():
            self._wake.wait(0 if todo else 0.1)
            self._wake.clear()
            self._step()
            if todo and not self._wake.is_set():
                code, amp = todo.pop()
                try:
                    self.cache.get(code, amp)
                except VoiceError as err:
                    log.warning("voice: prompts could not be pre-rendered: %s", err)
                    todo.clear()

    def _to_render(self) -> list[tuple[str, int]]:
        from terminal.voice.prompts import codes

        amps = {self.cfg.volume} | ({self.cfg.quiet_volume} if self.cfg.quiet_hours else set())
        return [(c, a) for c in reversed(codes()) for a in sorted(amps) if a > 0 and not self.cache.path(c, a).exists()]

    def _step(self) -> None:
        wanted, at = self._wanted, self._wanted_at
        now = time.monotonic()
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
            self._ended_at = now
        if wanted != self._current:
            self._kill()
            self._current, self._repeats, self._ended_at = wanted, 0, None
            if wanted is not None:
                self._play(wanted, at)
        elif (
            wanted is not None
            and self._proc is None
            and self._ended_at is not None
            and self.cfg.repeat_after_s > 0
            and self._repeats < self.cfg.max_repeats
            and now - self._ended_at >= self.cfg.repeat_after_s
        ):
            self._repeats += 1
            self._ended_at = None
            self._play(wanted, None)

    def _play(self, code: str, wanted_at: float | None) -> None:
        amp = self.cfg.quiet_volume if in_quiet_hours(self.cfg.quiet_hours, datetime.now()) else self.cfg.volume
        if amp <= 0 or code in self._failed:
            return
        try:
            path = self.cache.get(code, amp)
        except VoiceError as err:
            self._failed.add(code)  # log once per code, keep serving the others
            log.warning("voice: %s", err)
            return
        try:
            self._proc = subprocess.Popen(
                [APLAY, "-q", "-D", self.cfg.device, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except OSError as err:
            log.warning("voice: aplay failed: %s", err)
            return
        self.played.append(code)
        if wanted_at is not None:
            self.latencies.append((code, time.monotonic() - wanted_at))
        log.debug("voice: %s%s", code, "" if wanted_at is not None else " (repeat)")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
