"""Confidence bounds on a false-match rate, and the threshold whose bound meets a target.

A threshold set where the *measured* FMR equals the target is as likely as not to exceed it on new people.
The one-sided Clopper-Pearson upper bound on the FMR (exact binomial; ``k`` false matches among ``n``
impostor pairs) is what the calibration holds to instead: the threshold is the lowest at which the bound is
at most the target. Impostor pairs share images and identities, so they are not independent: the bound is
optimistic, which is why the calibration also reports identity-disjoint folds.
"""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (k is small: tens to hundreds)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq for i in range(k + 1)
    ]
    m = max(terms)
    return min(1.0, math.exp(m) * sum(math.exp(t - m) for t in terms))


def clopper_pearson_upper(k: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided upper confidence bound on a rate with ``k`` events in ``n`` trials (1.0 when n == 0)."""
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    alpha = 1.0 - confidence
    if k == 0:
        return 1.0 - alpha ** (1.0 / n)  # closed form
    lo, hi = k / n, 1.0
    for _ in range(100):  # bisection on P(X <= k; p) = alpha, decreasing in p
        mid = (lo + hi) / 2
        if _binom_cdf(k, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return hi


def allowed_false_matches(n: int, target: float, confidence: float = CONFIDENCE) -> int:
    """The most false matches among ``n`` impostor pairs whose upper bound is still <= ``target`` (-1: none)."""
    k = -1
    hi = int(target * n) + 1
    lo_k, hi_k = 0, max(hi, 0)
    while lo_k <= hi_k:  # the bound grows with k: binary search for the last k that meets the target
        mid = (lo_k + hi_k) // 2
        if clopper_pearson_upper(mid, n, confidence) <= target:
            k, lo_k = mid, mid + 1
        else:
            hi_k = mid - 1
    return k


def threshold_for_bound(impostor: np.ndarray, target: float, confidence: float = CONFIDENCE) -> tuple[float, bool]:
    """(threshold, met): the lowest threshold at which the FMR's upper bound is <= ``target``.

    ``met`` is False when even zero false matches among these pairs cannot show the target (too few pairs):
    the threshold is then just above the highest impostor score, a bound the data cannot confirm.
    """
    imp = np.sort(np.asarray(impostor, dtype=np.float64))[::-1]
    if imp.size == 0:
        raise ValueError("no impostor scores to calibrate on")
    k = allowed_false_matches(imp.size, target, confidence)
    if k < 0:
        return float(np.nextafter(imp[0], np.inf)), False
    if k >= imp.size:
        return float(np.nextafter(imp[-1], -np.inf)), True
    return float(np.nextafter(imp[k], np.inf)), True


def identity_bootstrap_upper(
    embeddings: np.ndarray,
    labels: list[str],
    threshold: float,
    resamples: int = 1000,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> float:
    """Upper bound on the FMR at ``threshold`` by resampling *identities* with replacement.

    Impostor pairs of the same people are correlated (one look-alike pair of people gives many false matches),
    which the binomial bound ignores. Here each resample draws the people, not the pairs: per pair of people
    (a, b) the false matches F[a, b] and pairs N[a, b] are counted once, a resample with counts w gives
    FMR = w'Fw / w'Nw (two copies of one person are never an impostor pair: the diagonal is zero), and the
    bound is the ``confidence`` quantile over the resamples.
    """
    lab = np.asarray(labels)
    people, idx = np.unique(lab, return_inverse=True)
    if len(people) < 2:
        return 1.0
    emb = np.asarray(embeddings, dtype=np.float32)
    one_hot = np.zeros((len(lab), len(people)), np.float64)
    one_hot[np.arange(len(lab)), idx] = 1.0
    different = idx[:, None] != idx[None, :]
    hits = ((emb @ emb.T) >= threshold) & different
    f = one_hot.T @ hits.astype(np.float64) @ one_hot
    n = one_hot.T @ different.astype(np.float64) @ one_hot
    rng = np.random.default_rng(seed)
    w = rng.multinomial(len(people), np.full(len(people), 1.0 / len(people)), size=resamples).astype(np.float64)
    fm = np.einsum("ri,ij,rj->r", w, f, w)
    pairs = np.einsum("ri,ij,rj->r", w, n, w)
    rates = fm[pairs > 0] / pairs[pairs > 0]
    return float(np.quantile(rates, confidence)) if rates.size else 1.0


def threshold_for_identity_bound(
    embeddings: np.ndarray,
    labels: list[str],
    impostor: np.ndarray,
    target: float,
    start: float,
    confidence: float = CONFIDENCE,
) -> float:
    """The lowest threshold >= ``start`` whose identity-bootstrap upper bound is <= ``target``.

    With the resamples fixed (one seed) each resample's FMR falls as the threshold rises, so the bound does too:
    a binary search over the impostor scores above ``start`` finds it.
    """
    above = np.unique(np.asarray(impostor, dtype=np.float64))
    candidates = [start] + [float(np.nextafter(x, np.inf)) for x in above[above >= start]]
    lo, hi = 0, len(candidates) - 1
    if identity_bootstrap_upper(embeddings, labels, candidates[hi], confidence=confidence) > target:
        return candidates[hi]  # no impostor score left at or above it: the data cannot show more
    while lo < hi:
        mid = (lo + hi) // 2
        if identity_bootstrap_upper(embeddings, labels, candidates[mid], confidence=confidence) <= target:
            hi = mid
        else:
            lo = mid + 1
    return candidates[lo]
