"""Fusion and decisions on controlled embeddings (the real-image tests are in test_real_matching.py)."""

from __future__ import annotations

import numpy as np
import pytest

from terminal.matching.decision import FUSIONS, Matcher, fuse_scores
from terminal.matching.embedder import TFLiteEmbedder
from terminal.matching.template import Template, TemplateError


def unit(*rows: list[float]) -> np.ndarray:
    a = np.array(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_fusions_on_known_vectors() -> None:
    probe = unit([1, 0, 0], [0, 1, 0])
    ref = unit([1, 0, 0])
    assert fuse_scores(probe, ref, "max_cosine") == pytest.approx(1.0)
    assert fuse_scores(probe, ref, "mean_cosine") == pytest.approx(0.5)
    assert fuse_scores(probe, ref, "mean_embedding") == pytest.approx(np.sqrt(0.5))
    with pytest.raises(ValueError):
        fuse_scores(probe, ref, "median")


@pytest.mark.parametrize("fusion", FUSIONS)
def test_single_pair_is_plain_cosine_for_every_fusion(fusion: str) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 128)).astype(np.float32)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    assert fuse_scores(a[None], b[None], fusion) == pytest.approx(float(a @ b), abs=1e-6)


def test_decision_at_threshold_is_inclusive_and_records_everything(embedder: TFLiteEmbedder) -> None:
    ref = Template(embedder.name, embedder.version, unit([1.0] + [0.0] * 127))
    probe = unit([0.6, 0.8] + [0.0] * 126)
    r = Matcher(embedder, threshold=0.6).compare(probe, ref)
    assert r.decision == "match" and r.score == pytest.approx(0.6)
    r2 = Matcher(embedder, threshold=0.6001).compare(probe, ref)
    assert r2.decision == "no_match"
    d = r2.to_dict()
    assert set(d) >= {"decision", "score", "threshold", "model", "model_version", "n_probe", "n_reference"}
    assert d["model"] == embedder.name and d["n_probe"] == 1 and d["n_reference"] == 1


def test_nan_threshold_or_score_never_matches(embedder: TFLiteEmbedder) -> None:
    ref = Template(embedder.name, embedder.version, unit([1.0] + [0.0] * 127))
    assert Matcher(embedder, float("nan")).compare(ref.embeddings, ref).decision == "no_match"
    bad_probe = np.full((1, 128), np.nan, np.float32)
    assert Matcher(embedder, 0.5).compare(bad_probe, ref).decision == "no_match"


def test_wrong_model_and_dim_refused(embedder: TFLiteEmbedder) -> None:
    m = Matcher(embedder, 0.5)
    with pytest.raises(TemplateError) as info:
        m.compare(unit([1.0] * 128), Template("other_model", embedder.version, unit([1.0] * 128)))
    assert info.value.code == "WRONG_MODEL"
    with pytest.raises(TemplateError) as info:
        m.compare(unit([1.0] * 64), Template(embedder.name, embedder.version, unit([1.0] * 64)))
    assert info.value.code == "WRONG_DIM"
    with pytest.raises(ValueError):
        Matcher(embedder, 0.5, fusion="vote")  # type: ignore[arg-type]
