"""Matching accuracy over ``<identity>/<images>`` folders: embed every image once (in memory), score all pairs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from terminal.analysis import codes as C
from terminal.analysis.modelcache import ModelCache
from terminal.camera.recording import read_image_rgb
from terminal.errors import SourceError, TerminalError
from terminal.matching.embedder import Embedder
from terminal.matching.metrics import PairScores, pair_scores, summary
from terminal.matching.probe import FaceFinder
from terminal.matching.qualityset import cached_embedding
from terminal.matching.template import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[Iterable[T], int], Iterator[T]]


class DatasetError(TerminalError):
    """The evaluation folder does not have the ``<identity>/<images>`` layout."""

    exit_code = 66  # EX_NOINPUT


def list_identity_images(root: Path) -> list[tuple[str, Path]]:
    """(identity, image path) for every image in ``root/<identity>/``, sorted; DatasetError if there are none."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory (expected <identity>/<images> folders)")
    items = [
        (d.name, f)
        for d in sorted(p for p in root.iterdir() if p.is_dir())
        for f in sorted(d.iterdir())
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not items:
        raise DatasetError(f"{root}: no images in <identity>/ sub-folders")
    return items


@dataclass
class EmbeddedSet:
    """Embeddings of the images that gave a usable face, with the counts of those that did not."""

    embeddings: np.ndarray
    labels: list[str]
    images: int = 0
    identities: int = 0
    no_face: int = 0
    rejected_by_gate: int = 0
    unreadable: int = 0
    rejections: dict[str, int] = field(default_factory=dict)

    def scores(self) -> PairScores:
        """Genuine and impostor cosine scores over every pair of embedded images."""
        return pair_scores(self.embeddings, self.labels)

    def counts(self) -> dict[str, int]:
        """The image counts for reports."""
        return {
            "images": self.images,
            "identities": self.identities,
            "embedded": len(self.labels),
            "no_face": self.no_face,
            "rejected_by_gate": self.rejected_by_gate,
        }


def _plain(items: Iterable[T], total: int) -> Iterator[T]:
    yield from items


def embed_dataset(
    items: list[tuple[str, Path]],
    embedder: Embedder,
    finder: FaceFinder,
    progress: Progress[tuple[str, Path]] | None = None,
    cache: ModelCache | None = None,
) -> EmbeddedSet:
    """Embed each image's face (largest, if several); count images with no face and images the gate rejects."""
    bar = progress or _plain
    embs: list[np.ndarray] = []
    labels: list[str] = []
    out = EmbeddedSet(
        np.zeros((0, 0), np.float32), [], images=len(items), identities=len({ident for ident, _ in items})
    )
    for ident, path in bar(items, len(items)):
        try:
            image = read_image_rgb(path)
        except SourceError:
            out.unreadable += 1
            out.no_face += 1
            continue
        found = finder.find(image)
        if found.usable and found.face is not None:
            embs.append(cached_embedding(embedder, image, found.face, cache))
            labels.append(ident)
            continue
        # NO_FACE counts as "no face" whether or not the gate ran; anything else is the gate's rejection.
        if C.NO_FACE in found.reasons:
            out.no_face += 1
        else:
            out.rejected_by_gate += 1
            for code in found.reasons:
                out.rejections[code] = out.rejections.get(code, 0) + 1
    out.embeddings = np.stack(embs) if embs else np.zeros((0, embedder.dim), np.float32)
    out.labels = labels
    return out


def report(embedded: EmbeddedSet, scores: PairScores | None = None, threshold: float | None = None) -> dict[str, Any]:
    """The `terminal evaluate match --json` object: accuracy over the embedded images, plus (at ``threshold``)
    the end-to-end rates a member experiences (ISO/IEC 19795-1)."""
    scores = scores or embedded.scores()
    out: dict[str, Any] = dict(embedded.counts())
    out["genuine_pairs"] = len(scores.genuine)
    out["impostor_pairs"] = len(scores.impostor)
    out.update(summary(scores))
    out.update(end_to_end(embedded, scores, threshold))
    return out


def end_to_end(embedded: EmbeddedSet, scores: PairScores, threshold: float | None) -> dict[str, Any]:
    """Failure-to-acquire counts and rates and, at ``threshold``, FMR, FNMR and the generalised rates.

    FTA = (no face + rejected by the gate) / images. GFRR = FTA + (1 - FTA) x FNMR and GFAR = (1 - FTA) x FMR
    (ISO/IEC 19795-1, one attempt per transaction): an image the gate turns away is a member not verified,
    so a gate that "improves" the EER by rejecting is charged for it here.
    """
    n = max(embedded.images, 1)
    fta = (embedded.no_face + embedded.rejected_by_gate) / n
    out: dict[str, Any] = {
        "gate_rejected": embedded.rejected_by_gate,
        "gate_rejected_rate": round(embedded.rejected_by_gate / n, 5),
        "no_face_rate": round(embedded.no_face / n, 5),
        "fta_rate": round(fta, 5),
        "threshold": threshold,
        "fmr_at_threshold": None,
        "fnmr_at_threshold": None,
        "gfrr_at_threshold": None,
        "gfar_at_threshold": None,
    }
    if threshold is None:
        return out
    if len(scores.impostor):
        fmr = float(np.mean(scores.impostor >= threshold))
        out["fmr_at_threshold"] = round(fmr, 6)
        out["gfar_at_threshold"] = round((1 - fta) * fmr, 6)
    if len(scores.genuine):
        fnmr = float(np.mean(scores.genuine < threshold))
        out["fnmr_at_threshold"] = round(fnmr, 6)
        out["gfrr_at_threshold"] = round(fta + (1 - fta) * fnmr, 6)
    elif embedded.images:
        out["gfrr_at_threshold"] = round(fta, 6) if fta == 1.0 else None
    return out
