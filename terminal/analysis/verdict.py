"""The result types of the gate: one CheckResult per check and one Verdict per frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminal.analysis.guidance import message
from terminal.analysis.landmarker import FaceObservation


@dataclass
class CheckResult:
    """One check: the measured value, its (low, high) limits, and whether it passed; ``code`` names the failure.

    A failed check with ``blocking`` False is *advisory*: reported (labels, records) but within the limit where
    it costs matching, so it does not stop a capture (``[quality] advisory`` and the ``capture_*`` limits).
    """

    code: str
    value: float | None
    limits: tuple[float | None, float | None]
    passed: bool
    blocking: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "code": self.code,
            "value": None if self.value is None else round(float(self.value), 4),
            "limits": list(self.limits),
            "passed": self.passed,
            # Only a failed check blocks or not; null on a passed one (no decision to record).
            "blocking": None if self.passed else self.blocking,
        }


@dataclass
class Verdict:
    """The gate's answer for one frame: pass/fail, failing codes in priority order, the instruction and a score.

    ``failures`` are the blocking failures (``passed`` is True when there are none); ``advisories`` are checks
    that failed their limit but do not block a capture. Both together say what the gate *saw* (``reported``).
    """

    passed: bool
    failures: list[str]
    instruction: str | None
    checks: list[CheckResult] = field(default_factory=list)
    quality: float = 0.0
    n_faces: int = 0
    face: FaceObservation | None = None
    face_box: tuple[int, int, int, int] | None = None
    face_luma: float | None = None
    advisories: list[str] = field(default_factory=list)

    @property
    def sharpness(self) -> float | None:
        """The BLURRY check's value (directional re-blur ratio; higher is sharper), None if it did not run."""
        check = self.check("BLURRY")
        return None if check is None or check.value is None else float(check.value)

    @property
    def clean(self) -> bool:
        """Passed with no advisory either: the frames PAD, the identity check and references are taken from."""
        return self.passed and not self.advisories

    @property
    def reported(self) -> list[str]:
        """Every code the gate found, blocking or advisory (what ``evaluate quality`` scores as labels)."""
        return self.failures + [c for c in self.advisories if c not in self.failures]

    def check(self, code: str) -> CheckResult | None:
        """The result of the check that reports ``code``, if it ran."""
        return next((c for c in self.checks if c.code == code), None)

    def message(self, lang: str = "id") -> str | None:
        """The guidance text of the instruction in ``lang``."""
        return message(self.instruction, lang) if self.instruction else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary: no image, no landmarks (nothing biometric beyond pose angles and a box)."""
        out: dict[str, Any] = {
            "passed": self.passed,
            "failures": list(self.failures),
            "advisories": list(self.advisories),
            "instruction": self.instruction,
            "message": {"id": self.message("id"), "en": self.message("en")} if self.instruction else None,
            "quality": round(float(self.quality), 4),
            "n_faces": self.n_faces,
            "face_box": list(self.face_box) if self.face_box else None,
            "face_luma": None if self.face_luma is None else round(float(self.face_luma), 1),
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.face is not None:
            out["pose"] = {
                "yaw": round(self.face.yaw, 1),
                "pitch": round(self.face.pitch, 1),
                "roll": round(self.face.roll, 1),
            }
            out["inter_eye_px"] = round(self.face.inter_eye_px, 1)
        return out
