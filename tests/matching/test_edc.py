"""EDC and end-to-end error computations on small synthetic score sets with known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from terminal.matching.edc import check_effect, edc_area, edc_curve, genuine_pairs, oracle_area
from terminal.matching.edcreport import edc_report, format_edc
from terminal.matching.qualityset import ImageRecord


def test_edc_discards_lowest_quality_first() -> None:
    # 10 genuine scores, threshold 0.5: three false non-matches, carried by the three lowest qualities.
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.7, 0.9, 0.6, 0.95, 0.85])
    quality = np.array([0.0, 0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.95])
    curve = dict(edc_curve(scores, quality, 0.5, fractions=(0.0, 0.1, 0.2, 0.3, 0.5)))
    assert curve[0.0] == pytest.approx(0.3)
    assert curve[0.1] == pytest.approx(2 / 9)
    assert curve[0.2] == pytest.approx(1 / 8)
    assert curve[0.3] == 0.0 and curve[0.5] == 0.0
    # A useless (reversed) measure discards the good comparisons first: FNMR rises.
    bad = dict(edc_curve(scores, -quality, 0.5, fractions=(0.0, 0.3)))
    assert bad[0.3] == pytest.approx(3 / 7)


def test_edc_area_and_oracle() -> None:
    curve = [(0.0, 0.2), (0.1, 0.1), (0.2, 0.0)]
    assert edc_area(curve, upto=0.2) == pytest.approx(0.1 * 0.15 + 0.1 * 0.05)
    scores = np.array([0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])  # one error in ten
    # The oracle drops the error first: 0.1 at 0 discarded, 0 from 10% on.
    assert oracle_area(scores, 0.5, upto=0.2, fractions=(0.0, 0.1, 0.2)) == pytest.approx(0.1 * 0.05)
    assert math.isnan(edc_area([(0.0, 0.1)], upto=0.2))


def test_ties_get_no_credit() -> None:
    # Every comparison has the same quality: whatever their order, discarding half of them removes half of
    # the errors (pro rata), so the FNMR does not move: the measure found nothing.
    scores = np.array([0.9, 0.9, 0.1, 0.1])
    curve = dict(edc_curve(scores, np.zeros(4), 0.5, fractions=(0.0, 0.5, 0.75)))
    assert curve[0.0] == 0.5 and curve[0.5] == 0.5 and curve[0.75] == 0.5
    # Two tie groups: the cut inside the better group removes its errors pro rata.
    curve = dict(edc_curve(np.array([0.1, 0.9, 0.1, 0.9, 0.9]), np.array([0, 0, 1, 1, 1]), 0.5, fractions=(0.4, 0.6)))
    assert curve[0.4] == pytest.approx(1 / 3) and curve[0.6] == pytest.approx((1 - 1 / 3) / 2)


def test_genuine_pairs_and_check_effect() -> None:
    e = np.eye(3)
    emb = np.array([e[0], e[0], [0.6, 0.8, 0.0], e[1], e[1]])  # identity a: 0,1,2; b: 3,4
    pairs = genuine_pairs(emb, ["a", "a", "a", "b", "b"])
    assert sorted(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (3, 4)]
    assert sorted(np.round(pairs.scores, 3).tolist()) == [0.6, 0.6, 1.0, 1.0]
    # Threshold 0.7: the two pairs with image 2 are false non-matches; rejecting image 2 removes both.
    effect = check_effect(pairs, np.array([False, False, True, False, False]), 0.7)
    assert effect.rejected_images == 1 and effect.discarded_pairs == 2
    assert effect.fnmr_kept == 0.0 and effect.fnmr_discarded == 1.0 and effect.false_non_matches_removed == 2
    assert effect.helps
    # Rejecting a good image removes no error: it only rejects.
    effect = check_effect(pairs, np.array([False, False, False, True, False]), 0.7)
    assert effect.false_non_matches_removed == 0 and not effect.helps


def test_edc_report_tells_helpful_from_rejecting_checks() -> None:
    rng = np.random.default_rng(0)
    base = {ident: rng.normal(size=16) for ident in "abcdef"}
    records = []
    for ident, v in base.items():
        for k in range(4):
            noisy = k == 3  # the 4th image of everyone is degraded, and BLURRY flags exactly those
            emb = v + rng.normal(scale=3.0 if noisy else 0.05, size=16)
            eyes = k == 0  # EYES_CLOSED flags the first image, which matches fine
            failures = (["BLURRY"] if noisy else []) + (["EYES_CLOSED"] if eyes else [])
            records.append(
                ImageRecord(
                    ident,
                    Path(f"{ident}{k}"),
                    not failures,
                    failures,
                    0.2 if noisy else 0.8,
                    {"BLURRY": -0.5 if noisy else 0.5, "EYES_CLOSED": -0.1 if eyes else 0.3},
                    emb / np.linalg.norm(emb),
                )
            )
    rep = edc_report(records, threshold=0.8)
    assert rep["genuine_pairs"] == 6 * 6 and rep["images"] == 24
    assert rep["checks"]["BLURRY"]["verdict"] == "helps"
    assert rep["checks"]["EYES_CLOSED"]["verdict"] == "only rejects"
    assert rep["unified"]["area"] <= rep["random_area"]
    assert "BLURRY" in format_edc(rep)
