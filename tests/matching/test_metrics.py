"""Metrics and calibration arithmetic on synthetic scores with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.matching.calibration import calibrate, config_snippet, fmr_key, resolve_threshold
from terminal.matching.metrics import (
    PairScores,
    equal_error_rate,
    pair_scores,
    round_up,
    summary,
    tar_at,
    threshold_at_far,
)


def test_pair_scores_splits_by_label() -> None:
    e = np.eye(4, dtype=np.float32)
    e[1] = e[0]
    s = pair_scores(e, ["a", "a", "b", "c"])
    assert s.genuine.tolist() == [1.0]
    assert len(s.impostor) == 5 and np.all(s.impostor == 0)


@settings(max_examples=60, deadline=None)
@given(imp=st.lists(st.floats(-1, 1), min_size=1, max_size=300), far=st.sampled_from([0.5, 0.1, 1e-2, 1e-3]))
def test_threshold_at_far_admits_at_most_far(imp: list[float], far: float) -> None:
    a = np.array(imp)
    t = threshold_at_far(a, far)
    assert np.sum(a >= t) <= np.floor(far * len(a) + 1e-9)
    # and it is the lowest such threshold: one step down admits one more impostor
    if np.sum(a >= t) < len(a):
        lower = np.max(a[a < t])
        assert np.sum(a >= lower) > np.floor(far * len(a) + 1e-9)


def test_eer_of_separated_and_overlapping_scores() -> None:
    eer, thr = equal_error_rate(np.array([0.8, 0.9]), np.array([0.1, 0.2, 0.3]))
    assert eer == 0.0 and 0.3 < thr <= 0.8
    rng = np.random.default_rng(0)
    gen, imp = rng.normal(1.0, 1.0, 20000), rng.normal(-1.0, 1.0, 20000)
    eer, thr = equal_error_rate(gen, imp)
    # two unit normals 2 apart cross at 0 with error Phi(-1) = 0.1587
    assert eer == pytest.approx(0.1587, abs=0.01) and thr == pytest.approx(0.0, abs=0.05)


def test_summary_and_calibration_agree() -> None:
    rng = np.random.default_rng(1)
    s = PairScores(rng.normal(0.8, 0.08, 2000), rng.normal(0.05, 0.12, 50000))
    out = summary(s)
    cal = calibrate(s, [1e-3])
    # summary() reports the point threshold; the calibration holds the FMR's upper bound to the target, so its
    # threshold is at or above the point one.
    assert out["threshold_at_far"]["1e-3"] == cal["1e-3"]["point_threshold"]  # type: ignore[index]
    assert cal["1e-3"]["threshold"] >= cal["1e-3"]["point_threshold"]
    assert cal["1e-3"]["measured_fmr"] <= cal["1e-3"]["fmr_upper_bound"] <= 1e-3
    assert cal["1e-3"]["tar"] == pytest.approx(tar_at(s.genuine, cal["1e-3"]["threshold"]))
    assert cal["1e-3"]["resolvable"] and not calibrate(s, [1e-5])["1e-5"]["resolvable"]


def test_round_up_never_lowers() -> None:
    for t in [0.54231, 0.5423, -0.12345, 0.99999]:
        assert round_up(t) >= t and round_up(t) - t < 1e-4 + 1e-12


def test_fmr_key() -> None:
    assert fmr_key(1e-3) == "1e-3" and fmr_key(0.01) == "1e-2" and fmr_key(5e-4) == "5e-4"


def test_snippet_is_valid_config(tmp_path: object) -> None:
    import tomllib

    from terminal.config import config_from_dict

    s = PairScores(np.array([0.7, 0.8, 0.9]), np.linspace(-0.2, 0.5, 5000))
    rec = {
        "model": "m",
        "model_version": "v",
        "date": "2026-01-01",
        "data": ["x/y"],
        "gate": True,
        "genuine_pairs": 3,
        "impostor_pairs": 5000,
        "thresholds": calibrate(s, [1e-3]),
    }
    cfg = config_from_dict(tomllib.loads(config_snippet(rec, 1e-3)))
    assert cfg.matching.threshold == rec["thresholds"]["1e-3"]["threshold"]  # type: ignore[index]
    assert cfg.matching.target_fmr == 1e-3


def test_threshold_resolution(embedder: object) -> None:
    from terminal.config import load_config
    from terminal.errors import ConfigError

    emb = embedder
    cfg = load_config(None, overrides={"matching.threshold": 0.61})
    assert resolve_threshold(cfg, emb)[0] == 0.61  # type: ignore[arg-type]
    shipped = {
        emb.name: {
            "model_version": emb.version,
            "date": "d",
            "data": ["x"],  # type: ignore[attr-defined]
            "thresholds": {"1e-3": {"threshold": 0.55}},
        }
    }
    assert resolve_threshold(load_config(None), emb, shipped)[0] == 0.55  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no calibrated threshold"):
        resolve_threshold(load_config(None, overrides={"matching.target_fmr": 1e-5}), emb, shipped)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no calibrated threshold"):
        resolve_threshold(load_config(None), emb, {})  # type: ignore[arg-type]
