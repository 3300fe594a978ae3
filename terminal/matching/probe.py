"""Find the one face to match in a still image: through the quality gate, or the bare landmarker."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.analysis import codes as C
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation

if TYPE_CHECKING:
    from terminal.analysis.gate import QualityGate
    from terminal.analysis.verdict import Verdict
    from terminal.config.schema import Config

log = logging.getLogger(__name__)

# Still images have no stream, so steadiness cannot be judged; framing depends on the terminal's camera and is
# skipped on research images (they are small crops).
STILL_SKIP: frozenset[str] = frozenset({C.UNSTEADY})
RESEARCH_SKIP: frozenset[str] = frozenset({C.UNSTEADY} | C.FRAMING_CODES)


@dataclass
class FoundFace:
    """The face to embed, or the reasons there is none; ``verdict`` is the gate's, when a gate ran."""

    face: FaceObservation | None
    reasons: list[str] = field(default_factory=list)
    n_faces: int = 0
    verdict: Verdict | None = None

    @property
    def usable(self) -> bool:
        """True when there is exactly one face to embed."""
        return self.face is not None and not self.reasons

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no landmarks)."""
        out: dict[str, Any] = {"usable": self.usable, "reasons": list(self.reasons), "n_faces": self.n_faces}
        if self.verdict is not None:
            out["gate"] = {
                "passed": self.verdict.passed,
                "failures": list(self.verdict.failures),
                "advisories": list(self.verdict.advisories),
                "instruction": self.verdict.instruction,
                "quality": round(float(self.verdict.quality), 4),
            }
        return out


class FaceFinder:
    """Runs the gate (when given) or the landmarker on one image and picks the face to embed.

    ``strict``: more than one face is refused (MULTIPLE_FACES), as at the terminal, and an advisory gate code
    (e.g. closed eyes) refuses the image too: a reference is used for every later verification of the member,
    so it must be clean. Evaluation over identity folders sets it off: the largest face is taken and advisory
    codes do not block, as in a session's capture.
    """

    def __init__(self, landmarker: FaceLandmarker, gate: QualityGate | None = None, strict: bool = True) -> None:
        """Use ``gate`` if given (it must wrap ``landmarker``), else the landmarker alone."""
        self.landmarker = landmarker
        self.gate = gate
        self.strict = strict

    def find(self, image_rgb: np.ndarray) -> FoundFace:
        """The face in ``image_rgb`` to embed, or why there is none (gate failure codes, NO_FACE, MULTIPLE_FACES)."""
        if self.gate is not None:
            verdict = self.gate.analyze(image_rgb)
            if not verdict.passed:
                return FoundFace(None, list(verdict.failures) or [C.NO_FACE], verdict.n_faces, verdict)
            if self.strict and verdict.advisories:
                return FoundFace(None, list(verdict.advisories), verdict.n_faces, verdict)
            if verdict.face is None:  # a passing verdict always has a face; guard anyway, never embed nothing
                return FoundFace(None, [C.NO_FACE], verdict.n_faces, verdict)
            if self.strict and verdict.n_faces > 1:
                return FoundFace(None, [C.MULTIPLE_FACES], verdict.n_faces, verdict)
            return FoundFace(verdict.face, [], verdict.n_faces, verdict)
        faces = self.landmarker.detect(image_rgb)
        if not faces:
            return FoundFace(None, [C.NO_FACE], 0)
        if self.strict and len(faces) > 1:
            return FoundFace(None, [C.MULTIPLE_FACES], len(faces))
        return FoundFace(faces[0], [], len(faces))  # detect() lists the largest face first

    def close(self) -> None:
        """Release the landmarker (and the gate's)."""
        if self.gate is not None:
            self.gate.close()
        self.landmarker.close()


def make_finder(
    cfg: Config, use_gate: bool = True, skip: Iterable[str] = STILL_SKIP, strict: bool = True
) -> FaceFinder:
    """A FaceFinder from the config: landmarker in IMAGE mode, plus the quality gate when ``use_gate``."""
    from terminal.modelstore import model_path

    q = cfg.quality
    landmarker = FaceLandmarker(
        model_path(cfg.models.landmarker, cfg.models.dir),
        mode="image",
        max_faces=max(3, q.max_faces + 1),
        min_detection_confidence=q.min_detection_confidence,
    )
    gate = None
    if use_gate:
        from terminal.analysis.gate import QualityGate

        gate = QualityGate(q, landmarker, skip=skip)
    return FaceFinder(landmarker, gate, strict=strict)
