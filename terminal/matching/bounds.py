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
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
             for i in range(k + 1)]
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
