"""Verification metrics over genuine and impostor cosine scores: EER, TAR at a FAR, threshold at a FAR."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

FAR_POINTS: tuple[str, ...] = ("1e-2", "1e-3", "1e-4")


@dataclass(frozen=True)
class PairScores:
    """Cosine scores of every same-identity (genuine) and different-identity (impostor) pair."""

    genuine: np.ndarray
    impostor: np.ndarray


def pair_scores(embeddings: np.ndarray, labels: list[str] | np.ndarray) -> PairScores:
    """All unordered pairs of unit ``embeddings`` split by whether their ``labels`` agree."""
    emb = np.asarray(embeddings, dtype=np.float32)
    lab = np.asarray(labels)
    if emb.shape[0] != lab.shape[0]:
        raise ValueError(f"{emb.shape[0]} embeddings but {lab.shape[0]} labels")
    if emb.shape[0] < 2:
        return PairScores(np.zeros(0, np.float64), np.zeros(0, np.float64))
    sims = (emb @ emb.T).astype(np.float64)
    i, j = np.triu_indices(emb.shape[0], k=1)
    same = lab[i] == lab[j]
    s = sims[i, j]
    return PairScores(genuine=s[same], impostor=s[~same])


def far_at(impostor: np.ndarray, threshold: float) -> float:
    """Fraction of impostor scores that would match (score >= threshold)."""
    return float(np.mean(np.asarray(impostor) >= threshold)) if len(impostor) else float("nan")


def tar_at(genuine: np.ndarray, threshold: float) -> float:
    """Fraction of genuine scores that match (score >= threshold)."""
    return float(np.mean(np.asarray(genuine) >= threshold)) if len(genuine) else float("nan")


def threshold_at_far(impostor: np.ndarray, far: float) -> float:
    """The lowest threshold at which at most ``far`` of the impostor scores reach it (decision: score >= t).

    With ``n`` impostor scores, ``floor(far * n)`` of them may match; the threshold sits just above the next
    one. When ``far * n < 1`` the answer is just above the highest impostor score, i.e. the data cannot show
    that rate (see ``far_resolvable``).
    """
    imp = np.sort(np.asarray(impostor, dtype=np.float64))[::-1]
    if imp.size == 0:
        raise ValueError("no impostor scores to calibrate on")
    allowed = int(np.floor(far * imp.size + 1e-9))
    if allowed >= imp.size:
        return float(np.nextafter(imp[-1], -np.inf))
    return float(np.nextafter(imp[allowed], np.inf))


def round_up(threshold: float, digits: int = 4) -> float:
    """``threshold`` rounded up to ``digits`` decimals: a printed threshold must never admit more impostors."""
    q = 10.0**digits
    r = float(np.ceil(threshold * q) / q)
    return r if r >= threshold else float(np.round(r + 1.0 / q, digits))


def far_resolvable(n_impostor: int, far: float) -> bool:
    """Whether ``n_impostor`` pairs are enough to measure ``far`` at all (at least one allowed false match)."""
    return far * n_impostor >= 1.0


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): where the false-match and false-non-match rates cross, interpolated between scores."""
    gen = np.sort(np.asarray(genuine, dtype=np.float64))
    imp = np.sort(np.asarray(impostor, dtype=np.float64))
    if gen.size == 0 or imp.size == 0:
        return float("nan"), float("nan")
    thresholds = np.unique(np.concatenate([gen, imp, [gen[0] - 1e-6, imp[-1] + 1e-6]]))
    # FAR(t) = share of impostors >= t (falls with t); FRR(t) = share of genuines < t (rises with t).
    far = 1.0 - np.searchsorted(imp, thresholds, side="left") / imp.size
    frr = np.searchsorted(gen, thresholds, side="left") / gen.size
    diff = far - frr
    k = int(np.argmax(diff <= 0))  # first threshold where FRR has caught up with FAR
    if k == 0:
        return float((far[0] + frr[0]) / 2), float(thresholds[0])
    # Linear interpolation between the last point with FAR > FRR and the first with FAR <= FRR.
    d0, d1 = diff[k - 1], diff[k]
    w = d0 / (d0 - d1) if d0 != d1 else 0.5
    eer = (1 - w) * (far[k - 1] + frr[k - 1]) / 2 + w * (far[k] + frr[k]) / 2
    thr = (1 - w) * thresholds[k - 1] + w * thresholds[k]
    return float(eer), float(thr)


def summary(scores: PairScores, far_points: tuple[str, ...] = FAR_POINTS) -> dict[str, object]:
    """EER and, for each FAR, the calibrated threshold and the TAR it gives (JSON-ready, rounded)."""
    eer, _ = equal_error_rate(scores.genuine, scores.impostor)
    tar: dict[str, float | None] = {}
    thr: dict[str, float | None] = {}
    for key in far_points:
        if scores.impostor.size == 0 or scores.genuine.size == 0:
            tar[key] = thr[key] = None
            continue
        t = round_up(threshold_at_far(scores.impostor, float(key)))
        thr[key] = t
        tar[key] = round(tar_at(scores.genuine, t), 5)
    return {"eer": None if np.isnan(eer) else round(eer, 5), "tar_at_far": tar, "threshold_at_far": thr}
