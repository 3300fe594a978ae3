"""Enrolment and still-image verification: images through the face finder into templates and decisions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from terminal.camera.recording import read_image_rgb
from terminal.errors import SourceError
from terminal.matching.decision import Matcher, MatchResult
from terminal.matching.probe import FaceFinder, FoundFace
from terminal.matching.template import Template, TemplateError, is_image_path, load_template

log = logging.getLogger(__name__)


@dataclass
class ImageReport:
    """What happened to one enrolment image: used or not, and why."""

    file: str
    used: bool
    found: FoundFace | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (file name and reason codes, nothing biometric)."""
        out: dict[str, Any] = {"file": self.file, "used": self.used}
        if self.found is not None:
            out.update(self.found.to_dict())
        if self.error:
            out["error"] = self.error
        return out


def embed_image(image_rgb: np.ndarray, matcher: Matcher, finder: FaceFinder) -> tuple[np.ndarray | None, FoundFace]:
    """The embedding of the one usable face in ``image_rgb`` (None with reasons when there is none)."""
    found = finder.find(image_rgb)
    if not found.usable or found.face is None:
        return None, found
    return matcher.embed_face(image_rgb, found.face), found


def enroll_images(paths: list[Path], matcher: Matcher, finder: FaceFinder) -> tuple[Template, list[ImageReport]]:
    """A template from every usable image in ``paths``; TemplateError NO_USABLE_IMAGE when none is usable."""
    embeddings: list[np.ndarray] = []
    reports: list[ImageReport] = []
    for path in paths:
        try:
            image = read_image_rgb(Path(path))
        except SourceError as err:
            reports.append(ImageReport(Path(path).name, False, error=str(err)))
            continue
        emb, found = embed_image(image, matcher, finder)
        reports.append(ImageReport(Path(path).name, emb is not None, found))
        if emb is not None:
            embeddings.append(emb)
    if not embeddings:
        why = "; ".join(f"{r.file}: {r.error or ','.join(r.found.reasons if r.found else [])}" for r in reports)
        raise TemplateError("NO_USABLE_IMAGE", f"no reference image has one usable face ({why})")
    sources = [{"file": r.file} for r in reports if r.used]
    return matcher.template_from(np.stack(embeddings), sources=sources), reports


@dataclass
class VerifyResult:
    """A still-image verification: a decision (match / no_match), or ``rejected`` with the probe's reason codes."""

    decision: Literal["match", "no_match", "rejected"]
    reasons: list[str] = field(default_factory=list)
    match: MatchResult | None = None
    probe: FoundFace | None = None

    def to_dict(self) -> dict[str, Any]:
        """One JSON object: decision, reasons, and score/threshold/model when a comparison ran."""
        out: dict[str, Any] = {"decision": self.decision, "reasons": list(self.reasons)}
        if self.match is not None:
            out.update({k: v for k, v in self.match.to_dict().items() if k != "decision"})
        if self.probe is not None:
            out["probe"] = self.probe.to_dict()
        return out


def verify_image(image_rgb: np.ndarray, template: Template, matcher: Matcher, finder: FaceFinder) -> VerifyResult:
    """Verify one still probe image against ``template``: rejected (with reasons) unless exactly one usable face."""
    matcher.check_template(template)  # a wrong reference is an error before any image work
    emb, found = embed_image(image_rgb, matcher, finder)
    if emb is None:
        return VerifyResult("rejected", list(found.reasons), None, found)
    result = matcher.compare(emb[None, :], template)
    return VerifyResult(result.decision, [], result, found)


def verify_still(probe_path: Path, template: Template, matcher: Matcher, finder: FaceFinder) -> VerifyResult:
    """``verify_image`` on an image file (SourceError when it cannot be read)."""
    return verify_image(read_image_rgb(Path(probe_path)), template, matcher, finder)


def load_reference(source: Path | str | list[Path], matcher: Matcher, finder: FaceFinder | None = None) -> Template:
    """A template from a JSON file, or made on the spot from one or more reference images (CLI use)."""
    paths = [Path(p) for p in source] if isinstance(source, list) else [Path(source)]
    if len(paths) == 1 and not is_image_path(paths[0]):
        emb = matcher.embedder
        return load_template(paths[0], model=emb.name, version=emb.version, dim=emb.dim)
    if finder is None:
        raise TemplateError("BAD_FORMAT", "an image reference needs a face finder (landmarker)")
    template, _reports = enroll_images(paths, matcher, finder)
    return template
