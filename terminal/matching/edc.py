"""Error-versus-discard characteristic (ISO/IEC 29794-1): does a quality measure predict matching errors?

Every genuine comparison gets the quality of its worse image (the pairwise minimum, as in ISO/IEC 29794-1 and
Grother & Tabassi 2007). Discarding the lowest-quality fraction of comparisons, the FNMR at the operating
threshold should fall: fast if the measure predicts errors, no faster than the discarded share if it does not.
The threshold stays fixed (the terminal's), so the curve shows what a member would experience.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DISCARD_FRACTIONS: tuple[float, ...] = tuple(round(x, 2) for x in np.arange(0.0, 0.51, 0.05))


@dataclass(frozen=True)
class GenuinePairs:
    """Genuine comparisons: their scores and the indices of the two images in the image list."""

    scores: np.ndarray
    first: np.ndarray
    second: np.ndarray


def genuine_pairs(embeddings: np.ndarray, labels: Sequence[str]) -> GenuinePairs:
    """Every unordered same-label pair of (unit) embeddings with its cosine score."""
    lab = np.asarray(labels)
    i, j = np.triu_indices(len(lab), k=1)
    keep = lab[i] == lab[j]
    i, j = i[keep], j[keep]
    emb = np.asarray(embeddings, dtype=np.float64)
    scores = np.einsum("nd,nd->n", emb[i], emb[j]) if len(i) else np.zeros(0)
    return GenuinePairs(scores=scores, first=i, second=j)


def edc_curve(
    scores: np.ndarray, pair_quality: np.ndarray, threshold: float, fractions: Sequence[float] = DISCARD_FRACTIONS
) -> list[tuple[float, float]]:
    """(discarded share, FNMR of the rest) for each fraction, discarding the lowest ``pair_quality`` first.

    Comparisons of equal quality are discarded *pro rata*: when the cut falls inside a tie, the errors removed
    are that tie's error rate times the share of it discarded (the expectation over random tie-breaking).
    A measure with few distinct values (most faces without glare all measure 0) thus gets no credit, and no
    blame, for the order in which the comparisons happen to be listed.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = s.size
    if n == 0:
        return [(float(f), float("nan")) for f in fractions]
    q = np.asarray(pair_quality, dtype=np.float64)
    order = np.argsort(q, kind="stable")
    qs, errors = q[order], (s[order] < threshold).astype(np.float64)
    starts = np.flatnonzero(np.concatenate([[True], qs[1:] != qs[:-1]]))
    sizes = np.diff(np.concatenate([starts, [n]]))
    group_err = np.add.reduceat(errors, starts)
    before = np.concatenate([[0.0], np.cumsum(group_err)[:-1]])
    total = float(errors.sum())
    out = []
    for f in fractions:
        k = min(round(f * n), n)
        rest = n - k
        if rest == 0:
            out.append((float(f), float("nan")))
            continue
        g = int(np.searchsorted(starts, k, side="right")) - 1  # the tie group the cut falls in
        removed = before[g] + group_err[g] * (k - starts[g]) / sizes[g]
        out.append((float(f), float((total - removed) / rest)))
    return out


def edc_area(curve: Sequence[tuple[float, float]], upto: float = 0.2) -> float:
    """Area under the EDC from no discard to ``upto`` (trapezoids): lower is a more useful measure."""
    pts = [(f, e) for f, e in curve if f <= upto + 1e-9 and not np.isnan(e)]
    if len(pts) < 2:
        return float("nan")
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def oracle_area(
    scores: np.ndarray, threshold: float, upto: float = 0.2, fractions: Sequence[float] = DISCARD_FRACTIONS
) -> float:
    """The EDC area of a perfect measure (it discards the false non-matches first): the best possible."""
    s = np.asarray(scores, dtype=np.float64)
    return edc_area(edc_curve(s, s, threshold, fractions), upto)


@dataclass(frozen=True)
class CheckEffect:
    """What rejecting the images that fail one check does to the genuine comparisons at the threshold."""

    rejected_images: int
    discarded_pairs: int
    fnmr_kept: float
    fnmr_discarded: float
    false_non_matches_removed: int

    @property
    def helps(self) -> bool:
        """True when the discarded comparisons fail clearly more often than the kept ones (at least 2x, and
        at least one false non-match removed): the check removes errors, not just members."""
        if self.discarded_pairs == 0 or self.false_non_matches_removed == 0:
            return False
        return self.fnmr_discarded >= 2.0 * self.fnmr_kept


def check_effect(pairs: GenuinePairs, rejected: np.ndarray, threshold: float) -> CheckEffect:
    """Effect of rejecting the images flagged in ``rejected`` (bool per image) on the genuine comparisons."""
    rej = np.asarray(rejected, dtype=bool)
    hit = rej[pairs.first] | rej[pairs.second] if pairs.scores.size else np.zeros(0, bool)
    errors = pairs.scores < threshold
    kept, dropped = errors[~hit], errors[hit]
    return CheckEffect(
        rejected_images=int(rej.sum()),
        discarded_pairs=int(hit.sum()),
        fnmr_kept=float(kept.mean()) if kept.size else float("nan"),
        fnmr_discarded=float(dropped.mean()) if dropped.size else float("nan"),
        false_non_matches_removed=int(dropped.sum()),
    )
