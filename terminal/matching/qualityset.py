"""Per-image gate measures and embeddings over identity folders: the data of `evaluate edc`.

Every image goes through the quality gate (all checks measured, nothing dropped) and, whenever a face was
found, its face is embedded whether the gate passed it or not: the EDC needs the comparisons the gate would
have thrown away to tell whether throwing them away helped. Embeddings stay in memory unless a model cache
directory is given (owner-only files, see terminal.analysis.modelcache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from terminal.analysis import codes as C
from terminal.analysis.modelcache import ModelCache, image_digest
from terminal.analysis.verdict import CheckResult
from terminal.camera.recording import read_image_rgb
from terminal.errors import SourceError
from terminal.matching.decision import embed_face
from terminal.matching.embedder import Embedder

if TYPE_CHECKING:
    from terminal.analysis.gate import QualityGate
    from terminal.analysis.landmarker import FaceObservation

T = TypeVar("T")


@dataclass
class ImageRecord:
    """One image: the gate's outcome, each check's signed margin, and the face's embedding (if a face)."""

    ident: str
    path: Path
    passed: bool
    failures: list[str]
    quality: float
    margins: dict[str, float] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    advisories: list[str] = field(default_factory=list)


def signed_margin(check: CheckResult) -> float:
    """How far inside its limit a check's value lies, relative to the limit: > 0 passes, < 0 fails.

    Symmetric limits (pose angles) use the absolute value; a check that failed on a combined condition (e.g.
    TOO_DARK's share of black pixels) is never given a positive margin.
    """
    lo, hi = check.limits
    v = float(check.value) if check.value is not None else float("nan")
    if lo is not None and hi is not None and lo < 0 < hi:
        m = (hi - abs(v)) / hi
    elif lo is not None and hi is not None:
        m = min((v - lo) / max(abs(lo), 1e-9), (hi - v) / max(abs(hi), 1e-9))
    elif hi is not None:
        m = (hi - v) / max(abs(hi), 1e-9)
    elif lo is not None:
        m = (v - lo) / max(abs(lo), 1e-9)
    else:
        m = 0.0
    if not check.passed:
        m = min(m, -1e-6)
    return float(m)


def cached_embedding(
    embedder: Embedder, image: np.ndarray, face: FaceObservation, cache: ModelCache | None
) -> np.ndarray:
    """``embed_face`` through the cache (key: model, image pixels and the exact landmarks)."""
    if cache is None:
        return embed_face(embedder, image, face)
    ident = f"{embedder.name}|{embedder.version}"
    digest = image_digest(image) + hashlib.sha256(np.ascontiguousarray(face.landmarks).tobytes()).hexdigest()
    hit = cache.load("embedding", ident, digest)
    if hit is not None:
        return hit["e"].astype(np.float32)
    emb = embed_face(embedder, image, face)
    cache.store("embedding", ident, digest, {"e": emb})
    return emb


def _plain(items: Iterable[T], total: int) -> Iterator[T]:
    yield from items


def collect(
    items: list[tuple[str, Path]],
    gate: QualityGate,
    embedder: Embedder,
    cache: ModelCache | None = None,
    progress: Callable[[Iterable[tuple[str, Path]], int], Iterator[tuple[str, Path]]] | None = None,
) -> list[ImageRecord]:
    """Gate and embed every (identity, image); unreadable images count as NO_FACE."""
    bar = progress or _plain
    out = []
    for ident, path in bar(items, len(items)):
        try:
            image = read_image_rgb(path)
        except SourceError:
            out.append(ImageRecord(ident, path, False, [C.NO_FACE], 0.0))
            continue
        gate.reset()
        v = gate.analyze(image)
        rec = ImageRecord(
            ident,
            path,
            v.passed,
            list(v.failures),
            float(v.quality),
            {
                c.code: signed_margin(c)
                for c in v.checks
                if c.value is not None and c.code not in (C.NO_FACE, C.MULTIPLE_FACES)
            },
        )
        rec.advisories = list(v.advisories)
        if v.face is not None:
            rec.embedding = cached_embedding(embedder, image, v.face, cache)
        out.append(rec)
    return out
