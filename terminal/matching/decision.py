"""Calibrated decisions: embed aligned faces, fuse probe and reference embeddings, compare with the threshold."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

import numpy as np

from terminal.matching.align import align_face
from terminal.matching.embedder import Embedder, l2_normalise
from terminal.matching.settings import Fusion
from terminal.matching.template import Template, TemplateError

log = logging.getLogger(__name__)

FUSIONS: tuple[str, ...] = ("mean_embedding", "mean_cosine", "max_cosine")


class HasLandmarks(Protocol):
    """Anything with pixel landmarks, like terminal.analysis.landmarker.FaceObservation."""

    landmarks: np.ndarray


@dataclass(frozen=True)
class MatchResult:
    """The outcome of one comparison: decision, fused score, the threshold used and the model that made it."""

    decision: Literal["match", "no_match"]
    score: float
    threshold: float
    model: str
    model_version: str
    n_probe: int
    n_reference: int
    fusion: str = "mean_embedding"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (a score, never an embedding)."""
        d = asdict(self)
        d["score"] = round(float(self.score), 4)
        d["threshold"] = round(float(self.threshold), 4)
        return d


def embed_face(embedder: Embedder, image_rgb: np.ndarray, face: HasLandmarks) -> np.ndarray:
    """Align ``face`` (its pixel landmarks) in ``image_rgb`` to the embedder's input and return its unit embedding."""
    return embedder.embed(align_face(image_rgb, face.landmarks, size=embedder.input_size))


def fuse_scores(probe: np.ndarray, reference: np.ndarray, fusion: str) -> float:
    """One cosine score from (n, d) probe and (k, d) reference unit embeddings.

    ``mean_embedding``: cosine of the re-normalised mean probe and mean reference embeddings (the default; it
    averages out per-frame noise before comparing). ``mean_cosine``: mean of all n*k pairwise cosines.
    ``max_cosine``: the best pair (lenient: one lucky frame decides; kept for comparison).
    """
    p = l2_normalise(np.atleast_2d(probe))
    r = l2_normalise(np.atleast_2d(reference))
    if fusion == "mean_embedding":
        pm = l2_normalise(p.mean(axis=0))
        rm = l2_normalise(r.mean(axis=0))
        return float(pm @ rm)
    sims = p @ r.T
    if fusion == "mean_cosine":
        return float(sims.mean())
    if fusion == "max_cosine":
        return float(sims.max())
    raise ValueError(f"unknown fusion {fusion!r} (allowed: {', '.join(FUSIONS)})")


class Matcher:
    """Embeds faces with ``embedder`` and decides match / no_match at ``threshold`` (cosine, inclusive)."""

    def __init__(self, embedder: Embedder, threshold: float, fusion: Fusion = "mean_embedding") -> None:
        """``threshold`` comes from a calibration (terminal.matching.calibration), never from code."""
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r} (allowed: {', '.join(FUSIONS)})")
        self.embedder = embedder
        self.threshold = float(threshold)
        self.fusion = fusion

    def embed_face(self, image_rgb: np.ndarray, face: HasLandmarks) -> np.ndarray:
        """Align ``face`` (its pixel landmarks) in ``image_rgb`` and return its unit embedding."""
        return embed_face(self.embedder, image_rgb, face)

    def check_template(self, template: Template) -> None:
        """Refuse a template made by another model or with another dimension (TemplateError)."""
        emb = self.embedder
        if template.model != emb.name or template.version != emb.version:
            raise TemplateError(
                "WRONG_MODEL",
                f"template was made by {template.model} ({template.version}); this terminal uses {emb.name} "
                f"({emb.version}): re-enrol",
            )
        if template.dim != emb.dim:
            raise TemplateError("WRONG_DIM", f"template has {template.dim}-d embeddings; the model makes {emb.dim}-d")

    def compare(self, probe_embeddings: np.ndarray, template: Template) -> MatchResult:
        """Fuse the (n, d) probe embeddings with the template and decide at the calibrated threshold."""
        self.check_template(template)
        probe = np.atleast_2d(np.asarray(probe_embeddings, dtype=np.float32))
        if probe.shape[0] == 0:
            raise ValueError("compare needs at least one probe embedding")
        if probe.shape[1] != template.dim:
            raise TemplateError("WRONG_DIM", f"probe has {probe.shape[1]}-d embeddings; template has {template.dim}-d")
        score = fuse_scores(probe, template.embeddings, self.fusion)
        # A NaN score (corrupt input) must never compare as a match: only a finite score at or above wins.
        decision: Literal["match", "no_match"] = (
            "match" if np.isfinite(score) and score >= self.threshold else "no_match"
        )
        return MatchResult(
            decision=decision,
            score=score,
            threshold=self.threshold,
            model=self.embedder.name,
            model_version=self.embedder.version,
            n_probe=int(probe.shape[0]),
            n_reference=template.count,
            fusion=self.fusion,
        )

    def template_from(self, embeddings: np.ndarray, sources: list[dict[str, Any]] | None = None) -> Template:
        """A template of ``embeddings`` stamped with this matcher's model name and version."""
        return Template(self.embedder.name, self.embedder.version, embeddings, sources=sources or [])
