"""What the member screen and the voice say beyond the per-frame guidance: screens, results, reasons.

Guidance codes keep their texts in ``terminal.analysis.guidance``; this module adds the screen-level codes
(``SCREEN_*``, ``RESULT_*``, ``OOS_*``) and the dominant reason of a failed or timed-out session in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence

from terminal.analysis.guidance import MESSAGES

SCREENS: dict[str, dict[str, str]] = {
    "SCREEN_IDLE": {"id": "Sentuh untuk mulai", "en": "Touch to start"},
    "SCREEN_IDLE_WALKUP": {
        "id": "Sentuh untuk mulai, atau berdiri di depan kamera",
        "en": "Touch to start, or stand in front of the camera",
    },
    "SCREEN_KEYPAD": {
        "id": "Ketik NIK (16 angka) atau nomor KPJ (11 angka)",
        "en": "Type your NIK (16 digits) or KPJ number (11 digits)",
    },
    "SCREEN_WAITING": {
        "id": "Mohon tunggu, menghubungi sistem pusat",
        "en": "Please wait, contacting the central system",
    },
    "REQUEST_TIMEOUT": {
        "id": "Sistem pusat tidak menjawab, silakan coba lagi atau hubungi petugas",
        "en": "The central system did not answer; please try again or ask staff",
    },
    "REQUEST_REFUSED": {"id": "Nomor tidak valid, periksa kembali", "en": "Number not valid, please check it"},
    "RESULT_MATCH": {"id": "Verifikasi berhasil", "en": "Verification successful"},
    "RESULT_NO_MATCH": {
        "id": "Wajah tidak cocok, silakan hubungi petugas",
        "en": "Face did not match, please ask staff",
    },
    "RESULT_FAILED": {"id": "Verifikasi tidak dapat diselesaikan", "en": "The verification could not be completed"},
    "RESULT_TIMEOUT": {"id": "Waktu habis", "en": "Time is up"},
    "RESULT_CANCELLED": {"id": "Verifikasi dibatalkan", "en": "Verification cancelled"},
    "OOS_CAMERA": {"id": "Terminal tidak dapat digunakan: kamera bermasalah", "en": "Out of service: camera problem"},
    "OOS_OUTBOX": {
        "id": "Terminal tidak dapat digunakan: penyimpanan hasil penuh",
        "en": "Out of service: result storage is full",
    },
    "OOS_MAINTENANCE": {"id": "Terminal sedang dalam perawatan", "en": "Terminal under maintenance"},
    "OOS_STARTING": {"id": "Terminal sedang dimulai, mohon tunggu", "en": "Terminal is starting, please wait"},
}

# The dominant reason of a failed / timed-out session, in words a member understands.
REASONS: dict[str, dict[str, str]] = {
    "NO_FACE": {"id": "Wajah tidak terlihat di kamera", "en": "No face was seen by the camera"},
    "MULTIPLE_FACES": {"id": "Terlihat lebih dari satu wajah", "en": "More than one face was in view"},
    "FACE_TOO_CLOSE": {"id": "Wajah terlalu dekat ke kamera", "en": "The face was too close"},
    "FACE_TOO_SMALL": {"id": "Wajah terlalu jauh dari kamera", "en": "The face was too far away"},
    "FACE_OFF_CENTER": {"id": "Wajah tidak di tengah", "en": "The face was not centred"},
    "POSE_YAW": {"id": "Wajah tidak menghadap kamera", "en": "The face was turned away"},
    "POSE_PITCH": {"id": "Kepala terlalu menunduk atau mendongak", "en": "The head was tilted up or down"},
    "POSE_ROLL": {"id": "Kepala miring", "en": "The head was tilted sideways"},
    "OCCLUDED_GLASSES": {"id": "Kacamata menutupi mata", "en": "Glasses covered the eyes"},
    "OCCLUDED_FACE": {"id": "Wajah tertutup", "en": "The face was covered"},
    "EYES_CLOSED": {"id": "Mata tertutup", "en": "The eyes were closed"},
    "TOO_DARK": {"id": "Wajah terlalu gelap", "en": "The face was too dark"},
    "TOO_BRIGHT": {"id": "Cahaya terlalu terang", "en": "The light was too bright"},
    "UNEVEN_LIGHT": {"id": "Cahaya tidak merata di wajah", "en": "The light on the face was uneven"},
    "BLURRY": {"id": "Gambar kabur, kurang diam", "en": "The picture was blurred"},
    "UNSTEADY": {"id": "Kepala terus bergerak", "en": "The head kept moving"},
    "LIVENESS_FAILED": {"id": "Kedipan mata tidak terdeteksi", "en": "No blink was detected"},
    "BAD_REFERENCE": {"id": "Data rujukan bermasalah, hubungi petugas", "en": "Reference data problem, ask staff"},
    "NO_USABLE_FRAME": {"id": "Foto tidak dapat diproses", "en": "The photo could not be processed"},
    "SOURCE_ENDED": {"id": "Kamera berhenti", "en": "The camera stopped"},
    "CANCELLED": {"id": "Dibatalkan", "en": "Cancelled"},
}

ALL_TEXTS: dict[str, dict[str, str]] = {**MESSAGES, **SCREENS}


def text(code: str | None, languages: Sequence[str]) -> dict[str, str]:
    """The text of a guidance or screen code in each language (first = primary); {} for None."""
    if code is None:
        return {}
    entry = ALL_TEXTS.get(code) or REASONS.get(code)
    if entry is None:
        return {lang: code for lang in languages}
    return {lang: entry.get(lang) or entry["id"] for lang in languages}


def reason_text(reason_code: str | None, languages: Sequence[str]) -> dict[str, str]:
    """The plain-words reason of a failed or timed-out result ({} when there is none)."""
    if not reason_code:
        return {}
    entry = REASONS.get(reason_code) or MESSAGES.get(reason_code)
    if entry is None:
        return {}
    return {lang: entry.get(lang) or entry["id"] for lang in languages}
