"""Voice prompts with the real espeak-ng and aplay (ALSA's ``null`` device stands in for a loudspeaker)."""

from __future__ import annotations

import os
import shutil
import time
import wave
from datetime import datetime
from pathlib import Path

import pytest

from terminal.config.schema import Config
from terminal.voice.check import check_audio
from terminal.voice.player import VoicePlayer, in_quiet_hours, probe_device
from terminal.voice.prompts import PromptCache, VoiceError, codes, prompt_text
from terminal.voice.settings import VoiceConfig


def require_tools() -> None:
    missing = [t for t in ("espeak-ng", "aplay") if shutil.which(t) is None]
    if missing:
        msg = f"voice tests need {', '.join(missing)} (./setup.sh --dev installs espeak-ng and alsa-utils)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def test_prompt_texts() -> None:
    assert prompt_text("LIVENESS_BLINK") == "Silakan berkedip satu kali"
    assert prompt_text("RESULT_TIMEOUT+TOO_DARK") == "Waktu habis. Wajah terlalu gelap"
    assert prompt_text("RESULT_NO_MATCH", "en") == "Face did not match, please ask staff"
    assert "RESULT_MATCH" in codes() and "TOO_DARK" in codes() and "SCREEN_IDLE" not in codes()
    for bad in ("NOPE", "RESULT_FAILED+NOPE", "", "../../etc/passwd"):
        with pytest.raises(VoiceError):
            prompt_text(bad)


def test_quiet_hours_wrap_midnight() -> None:
    at = lambda h, m: datetime(2026, 1, 1, h, m)  # noqa: E731
    assert in_quiet_hours("21:00-06:00", at(23, 0)) and in_quiet_hours("21:00-06:00", at(5, 59))
    assert not in_quiet_hours("21:00-06:00", at(6, 0)) and not in_quiet_hours("21:00-06:00", at(12, 0))
    assert in_quiet_hours("12:00-13:00", at(12, 30)) and not in_quiet_hours(None, at(12, 30))
    with pytest.raises(ValueError):
        VoiceConfig(quiet_hours="25:00-06:00")


def test_render_once_and_cache(tmp_path: Path) -> None:
    require_tools()
    cache = PromptCache(VoiceConfig(enabled=True, english=True), tmp_path)
    p = cache.get("RESULT_TIMEOUT+TOO_DARK")
    with wave.open(str(p)) as w:
        assert w.getframerate() == 22050 and w.getnchannels() == 1
        assert w.getnframes() / w.getframerate() > 1.5  # Indonesian, a pause, then English
    mtime = p.stat().st_mtime_ns
    assert cache.get("RESULT_TIMEOUT+TOO_DARK") == p and p.stat().st_mtime_ns == mtime  # not rendered again
    slower = PromptCache(VoiceConfig(enabled=True, english=True, speed_wpm=100), tmp_path)
    assert slower.path("RESULT_TIMEOUT+TOO_DARK") != p  # a changed setting never plays a stale file
    assert not list(tmp_path.glob("tmp*")), "no half-rendered files left behind"


@pytest.mark.slow
@pytest.mark.slow
def test_player_speaks_debounces_repeats_and_stops(tmp_path: Path) -> None:
    require_tools()
    cfg = VoiceConfig(enabled=True, device="null", repeat_after_s=0.3, max_repeats=2)
    player = VoicePlayer(cfg, PromptCache(cfg, tmp_path))
    player.start()
    try:
        deadline = time.monotonic() + 30
        while not player.available and player.problem is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert player.available, player.problem
        player.say("HOLD_STILL")
        player.say("HOLD_STILL")  # the same prompt again is not a new prompt
        deadline = time.monotonic() + 10
        while len(player.played) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(player.played) == ["HOLD_STILL"] * 3  # said once, then repeated twice after pauses
        time.sleep(0.8)
        assert len(player.played) == 3  # max_repeats
        player.say("LIVENESS_BLINK")
        deadline = time.monotonic() + 10
        while "LIVENESS_BLINK" not in player.played and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(player.played)[3:] == ["LIVENESS_BLINK"]  # a new prompt is said at once
        player.say(None)
        time.sleep(0.3)
        assert player._proc is None or player._proc.poll() is not None  # silence: nothing left playing
        assert [c for c, _lat in player.latencies] == ["HOLD_STILL", "LIVENESS_BLINK"]  # repeats are not new prompts
    finally:
        player.stop()


def test_no_device_is_silent_and_reported(tmp_path: Path) -> None:
    require_tools()
    cfg = VoiceConfig(enabled=True, device="nosuchpcm")
    assert probe_device("nosuchpcm", tmp_path) is not None
    player = VoicePlayer(cfg, PromptCache(cfg, tmp_path))
    player.start()
    player.say("TOO_DARK")  # harmless
    player.stop()
    assert not player.available and player.problem and not player.played
    full = Config.model_validate(
        {"terminal": {"state_dir": str(tmp_path)}, "voice": {"enabled": True, "device": "nosuchpcm"}}
    )
    check = check_audio(full)
    assert check.status == "warn" and "silent" in check.summary
    ok = check_audio(
        Config.model_validate({"terminal": {"state_dir": str(tmp_path)}, "voice": {"enabled": True, "device": "null"}})
    )
    assert ok.status == "pass", ok.summary


def test_quiet_hours_volume_zero_says_nothing(tmp_path: Path) -> None:
    require_tools()
    now = datetime.now()
    span = f"{now.hour:02d}:00-{(now.hour + 1) % 24:02d}:00"
    cfg = VoiceConfig(enabled=True, device="null", quiet_hours=span, quiet_volume=0)
    player = VoicePlayer(cfg, PromptCache(cfg, tmp_path))
    player._play("TOO_DARK", time.monotonic())
    assert not player.played
