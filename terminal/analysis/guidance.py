"""One short, positive instruction per reason code, in Bahasa Indonesia (first) and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "NO_FACE": {"id": "Posisikan wajah Anda di depan kamera", "en": "Place your face in front of the camera"},
    "MULTIPLE_FACES": {"id": "Pastikan hanya satu wajah di depan kamera", "en": "Make sure only one face is in view"},
    "FACE_TOO_CLOSE": {"id": "Mundur sedikit dari kamera", "en": "Move back a little"},
    "FACE_TOO_SMALL": {"id": "Mendekat ke kamera", "en": "Move closer to the camera"},
    "FACE_OFF_CENTER": {"id": "Posisikan wajah di tengah layar", "en": "Center your face in the frame"},
    "POSE_YAW": {"id": "Hadapkan wajah lurus ke kamera", "en": "Face the camera straight on"},
    "POSE_PITCH": {
        "id": "Angkat atau turunkan dagu sedikit, lihat lurus ke kamera",
        "en": "Level your chin and look straight at the camera",
    },
    "POSE_ROLL": {"id": "Tegakkan kepala Anda", "en": "Keep your head upright"},
    "DARK_GLASSES": {
        "id": "Lepaskan kacamata hitam atau berwarna",
        "en": "Please take off your sunglasses or tinted glasses",
    },
    "GLARE_ON_GLASSES": {
        "id": "Kacamata silau: miringkan sedikit atau lepaskan",
        "en": "Glare on your glasses: tilt or remove them",
    },
    "OCCLUDED_GLASSES": {
        "id": "Bingkai kacamata menutupi mata, lepaskan kacamata",
        "en": "Your glasses frame hides your eyes, please take them off",
    },
    "OCCLUDED_FACE": {
        "id": "Rapikan rambut dan singkirkan penutup agar wajah terlihat",
        "en": "Uncover your face: move hair, hands or mask away",
    },
    "EYES_CLOSED": {"id": "Buka kedua mata", "en": "Open both eyes"},
    "TOO_DARK": {"id": "Mendekat ke cahaya, wajah terlalu gelap", "en": "Move into the light, your face is too dark"},
    "TOO_BRIGHT": {"id": "Hindari cahaya terlalu terang di wajah", "en": "Step out of the bright light"},
    "UNEVEN_LIGHT": {"id": "Hadap ke lampu agar wajah terang merata", "en": "Face the light so it falls evenly"},
    "BLURRY": {"id": "Diam sebentar agar gambar tajam", "en": "Stay still for a sharp picture"},
    "UNSTEADY": {"id": "Tahan posisi sebentar", "en": "Hold still a moment"},
    "HOLD_STILL": {"id": "Tahan posisi", "en": "Hold still"},
    "LIGHT_FAULT": {"id": "Lampu bermasalah, silakan hubungi petugas", "en": "Light fault, please call staff"},
    "LIVENESS_BLINK": {"id": "Silakan berkedip satu kali", "en": "Please blink once"},
    "LIVENESS_BLINK_TWICE": {"id": "Silakan berkedip dua kali", "en": "Please blink twice"},
    "LIVENESS_TURN_LEFT": {"id": "Tolehkan kepala sedikit ke kiri", "en": "Turn your head slightly left"},
    "LIVENESS_TURN_RIGHT": {"id": "Tolehkan kepala sedikit ke kanan", "en": "Turn your head slightly right"},
    "LIVENESS_FAILED": {
        "id": "Verifikasi belum berhasil, silakan coba lagi",
        "en": "Check not passed, please try again",
    },
    "CAPTURED": {"id": "Foto berhasil diambil, terima kasih", "en": "Photo taken, thank you"},
    "MATCH": {"id": "Verifikasi berhasil", "en": "Verification successful"},
    "NO_MATCH": {"id": "Wajah belum cocok, silakan coba lagi", "en": "Face not matched, please try again"},
}

LANGUAGES = ("id", "en")


def message(code: str, lang: str = "id") -> str:
    """The instruction for ``code`` in ``lang`` ("id" or "en"); unknown codes fall back to the code itself."""
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    return entry.get(lang) or entry["id"]
