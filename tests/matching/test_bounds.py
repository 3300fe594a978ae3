"""Clopper-Pearson bounds, the bound-based threshold, end-to-end rates and the calibration's gate version."""

from __future__ import annotations

import numpy as np
import pytest

from terminal.analysis.version import GATE_VERSION
from terminal.matching.bounds import allowed_false_matches, clopper_pearson_upper, threshold_for_bound
from terminal.matching.calibration import calibrate, identity_folds, load_shipped
from terminal.matching.evaluation import EmbeddedSet, end_to_end
from terminal.matching.metrics import PairScores


@pytest.mark.parametrize(
    ("k", "n", "conf", "expected"),
    [
        (1, 100, 0.975, 0.0545),  # the textbook two-sided 95% interval of 1/100 is (0.00025, 0.0545)
        (5, 100, 0.975, 0.1128),  # and of 5/100 (0.0164, 0.1128)
        (0, 3000, 0.95, 1 - 0.05 ** (1 / 3000)),  # zero events: closed form, ~ the rule of three (3/n)
    ],
)
def test_clopper_pearson_known_values(k: int, n: int, conf: float, expected: float) -> None:
    assert clopper_pearson_upper(k, n, conf) == pytest.approx(expected, abs=2e-4)


def test_bound_threshold_allows_fewer_false_matches_than_the_point_estimate() -> None:
    n = 20_000
    imp = np.linspace(0.0, 1.0, n)  # distinct scores
    k = allowed_false_matches(n, 1e-3)
    assert 0 < k < 20 and clopper_pearson_upper(k, n) <= 1e-3 < clopper_pearson_upper(k + 1, n)
    t, met = threshold_for_bound(imp, 1e-3)
    assert met and int((imp >= t).sum()) == k
    # Too few pairs to show the target even with no false match: the threshold clears every impostor.
    t, met = threshold_for_bound(imp[:1000], 1e-3)
    assert not met and t > imp[:1000].max()


def test_calibrate_reports_bound_and_pairs() -> None:
    rng = np.random.default_rng(1)
    scores = PairScores(genuine=rng.normal(0.8, 0.05, 500), impostor=rng.normal(0.1, 0.1, 50_000))
    entry = calibrate(scores, [1e-3])["1e-3"]
    assert entry["bound_met"] and entry["fmr_upper_bound"] <= 1e-3
    assert entry["false_matches"] < 50 and entry["threshold"] >= entry["point_threshold"]


def test_identity_folds_hold_out_whole_identities() -> None:
    rng = np.random.default_rng(2)
    labels = [f"id{i}" for i in range(40) for _ in range(3)]
    centres = {name: rng.normal(size=32) for name in set(labels)}
    emb = np.stack([centres[x] + rng.normal(scale=0.3, size=32) for x in labels])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    folds = identity_folds(emb, labels, 1e-2, shipped=0.5)
    assert [f["held_out"] for f in folds] == ["A", "B"]
    assert sum(f["identities"] for f in folds) == 40
    assert all(0 <= f["fmr"] <= 1 and f["fmr_upper_bound"] >= f["fmr"] for f in folds)


def test_end_to_end_rates_charge_failures_to_acquire() -> None:
    # 100 images: 5 without a face, 15 rejected by the gate -> FTA 0.2. Among the compared: FNMR 1/10, FMR 1/100.
    embedded = EmbeddedSet(np.zeros((0, 4)), [], images=100, identities=10, no_face=5, rejected_by_gate=15)
    scores = PairScores(genuine=np.array([0.9] * 9 + [0.1]), impostor=np.array([0.0] * 99 + [0.95]))
    out = end_to_end(embedded, scores, threshold=0.5)
    assert out["gate_rejected"] == 15 and out["gate_rejected_rate"] == 0.15 and out["no_face_rate"] == 0.05
    assert out["fta_rate"] == 0.2 and out["fnmr_at_threshold"] == 0.1 and out["fmr_at_threshold"] == 0.01
    assert out["gfrr_at_threshold"] == pytest.approx(0.2 + 0.8 * 0.1)  # ISO/IEC 19795-1: FTA + (1 - FTA) FNMR
    assert out["gfar_at_threshold"] == pytest.approx(0.8 * 0.01)
    assert end_to_end(embedded, scores, None)["gfrr_at_threshold"] is None


def test_shipped_calibration_matches_the_gate_version() -> None:
    """The shipped threshold is only valid for the gate it was calibrated behind: recalibrate after a change."""
    shipped = load_shipped()
    assert shipped, "no shipped calibration"
    for name, rec in shipped.items():
        assert rec.get("gate") is True, name
        assert rec.get("gate_version") == GATE_VERSION, (
            f"{name}: calibrated with gate {rec.get('gate_version')}, gate is {GATE_VERSION}: run `terminal "
            "calibrate ../shared/data/match_clean ../shared/data/match_hard --gate --fmr 1e-3 --write-shipped`"
        )
        entry = rec["thresholds"]["1e-3"]
        assert entry["bound_met"] and entry["fmr_upper_bound"] <= 1e-3 and rec["impostor_pairs"] > 10_000


def test_identity_bootstrap_sees_a_look_alike_pair_of_people() -> None:
    from terminal.matching.bounds import identity_bootstrap_upper

    rng = np.random.default_rng(3)
    labels = [f"id{i}" for i in range(30) for _ in range(4)]
    centres = {name: rng.normal(size=64) for name in set(labels)}
    centres["id1"] = centres["id0"] + rng.normal(scale=0.05, size=64)  # two people who look alike
    emb = np.stack([centres[x] + rng.normal(scale=0.2, size=64) for x in labels])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sims = emb @ emb.T
    lab = np.array(labels)
    i, j = np.triu_indices(len(lab), k=1)
    imp = sims[i, j][lab[i] != lab[j]]
    t = 0.8
    k, n = int((imp >= t).sum()), imp.size
    assert k == 16  # all from the look-alike pair: 4 x 4 images
    # The binomial bound treats the 16 as independent; resampling people knows they are one pair of people.
    assert identity_bootstrap_upper(emb, labels, t) > clopper_pearson_upper(k, n)


def test_identity_bound_threshold_meets_its_bound() -> None:
    from terminal.matching.bounds import identity_bootstrap_upper

    rng = np.random.default_rng(4)
    labels = [f"id{i}" for i in range(40) for _ in range(3)]
    centres = {name: rng.normal(size=32) for name in set(labels)}
    emb = np.stack([centres[x] + rng.normal(scale=0.4, size=32) for x in labels])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    lab = np.array(labels)
    i, j = np.triu_indices(len(lab), k=1)
    scores = PairScores(genuine=(emb @ emb.T)[i, j][lab[i] == lab[j]], impostor=(emb @ emb.T)[i, j][lab[i] != lab[j]])
    cp = calibrate(scores, [1e-2])["1e-2"]
    boot = calibrate(scores, [1e-2], bound="identity-bootstrap", embeddings=emb, labels=labels)["1e-2"]
    assert boot["threshold"] >= cp["threshold"]
    assert identity_bootstrap_upper(emb, labels, boot["threshold"]) <= 1e-2
    with pytest.raises(ValueError):
        calibrate(scores, [1e-2], bound="guess")
