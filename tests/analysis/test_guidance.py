"""Guidance text exists, in both languages, for every gate code and every code other packages show."""

from __future__ import annotations

import pytest

from terminal.analysis import codes as C
from terminal.analysis.guidance import LANGUAGES, MESSAGES, message


@pytest.mark.parametrize("code", list(C.PRIORITY) + list(C.OTHER_CODES))
def test_every_code_has_short_text_in_both_languages(code: str) -> None:
    entry = MESSAGES[code]
    for lang in LANGUAGES:
        text = entry[lang]
        assert text.strip() == text and 3 <= len(text) <= 60, (code, lang, text)
    assert entry["id"] != entry["en"], f"{code}: the Indonesian text must not just be the English one"


def test_priority_is_complete_and_unique() -> None:
    assert len(set(C.PRIORITY)) == len(C.PRIORITY) == 18
    assert C.PRIORITY.index(C.NO_FACE) < C.PRIORITY.index(C.POSE_YAW) < C.PRIORITY.index(C.TOO_DARK)
    assert set(MESSAGES) == set(C.PRIORITY) | set(C.OTHER_CODES)


def test_message_defaults_to_indonesian_and_knows_the_fixed_phrases() -> None:
    assert message("HOLD_STILL") == "Tahan posisi"
    assert message("HOLD_STILL", "en") == "Hold still"
    assert message("LIVENESS_BLINK") == "Silakan berkedip satu kali"
    assert message("LIVENESS_BLINK", "en") == "Please blink once"
    assert message("LIVENESS_BLINK_TWICE") == "Silakan berkedip dua kali"
    assert message("LIVENESS_BLINK_TWICE", "en") == "Please blink twice"
    assert message("NOT_A_CODE") == "NOT_A_CODE"


def test_sort_and_parse_codes() -> None:
    assert C.sort_codes(["BLURRY", "NO_FACE", "POSE_ROLL"]) == ["NO_FACE", "POSE_ROLL", "BLURRY"]
    assert C.parse_codes("face_too_small, FACE_OFF_CENTER") == ["FACE_TOO_SMALL", "FACE_OFF_CENTER"]
    with pytest.raises(ValueError, match="unknown reason code"):
        C.parse_codes("NOPE")
