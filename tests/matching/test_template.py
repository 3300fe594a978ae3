"""Templates: float16/float32 round trips and every way a reference can be wrong."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.matching.template import Template, TemplateError, load_template


def unit(rng: np.random.Generator, k: int, d: int = 128) -> np.ndarray:
    v = rng.normal(size=(k, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make(k: int = 2, d: int = 128) -> Template:
    return Template("mobilefacenet_sirius_128d_fp16", "v1", unit(np.random.default_rng(3), k, d))


@pytest.mark.parametrize(("dtype", "tol"), [("float32", 1e-7), ("float16", 2e-3)])
def test_round_trip_through_json(dtype: str, tol: float) -> None:
    t = make(3)
    d = json.loads(json.dumps(t.to_dict(dtype)))
    assert d["dtype"] == dtype and d["dim"] == 128 and d["count"] == 3
    back = Template.from_dict(d, model=t.model, version=t.version, dim=128)
    assert back.embeddings.dtype == np.float32
    np.testing.assert_allclose(back.embeddings, t.embeddings, atol=tol)
    # the cosine a decision uses survives the float16 round trip to within 1e-3
    assert np.max(np.abs(back.embeddings @ t.embeddings.T - t.embeddings @ t.embeddings.T)) < 1e-3
    np.testing.assert_allclose(np.linalg.norm(back.embeddings, axis=1), 1.0, atol=1e-6)


def test_float16_file_is_half_the_size() -> None:
    t = make(1)
    b16 = base64.b64decode(t.to_dict("float16")["embeddings"][0])
    b32 = base64.b64decode(t.to_dict("float32")["embeddings"][0])
    assert len(b16) == 256 and len(b32) == 512


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 5), d=st.sampled_from([64, 128, 512]), dtype=st.sampled_from(["float16", "float32"]))
def test_round_trip_any_shape(k: int, d: int, dtype: str) -> None:
    t = make(k, d)
    back = Template.from_dict(t.to_dict(dtype))
    assert back.embeddings.shape == (k, d)
    assert np.min(np.sum(back.embeddings * t.embeddings, axis=1)) > 0.999


def mutate(**changes: Any) -> dict[str, Any]:
    d = make(2).to_dict("float32")
    d.update(changes)
    return d


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (mutate(embeddings=["not base64!!"]), "BAD_BASE64"),
        (mutate(embeddings=[12345]), "BAD_BASE64"),
        (mutate(embeddings=[base64.b64encode(np.ones(64, "<f4").tobytes()).decode()]), "WRONG_DIM"),
        (mutate(embeddings=[base64.b64encode(b"\x00\x01\x02").decode()]), "WRONG_DIM"),
        (mutate(dim=512), "WRONG_DIM"),
        (mutate(dtype="int8"), "BAD_DTYPE"),
        (mutate(embeddings=[]), "EMPTY"),
        (mutate(embeddings="garbage"), "BAD_FORMAT"),  # garbage is not "empty" (issue 16)
        (mutate(embeddings={"0": "AAAA"}), "BAD_FORMAT"),
        (mutate(embeddings=None), "BAD_FORMAT"),
        (mutate(embeddings=[base64.b64encode(np.full(128, np.nan, "<f4").tobytes()).decode()]), "NOT_FINITE"),
        (mutate(embeddings=[base64.b64encode(np.zeros(128, "<f4").tobytes()).decode()]), "NOT_FINITE"),
        (mutate(format="something-else/9"), "BAD_FORMAT"),
        ([1, 2, 3], "BAD_FORMAT"),
        ({"model": "x"}, "BAD_FORMAT"),
        (mutate(model="mobilefacenet_insightface_y1_128d_fp32_NONCOMMERCIAL"), "WRONG_MODEL"),
        (mutate(model_version="v2"), "WRONG_MODEL"),
    ],
)
def test_bad_references_give_codes(data: Any, code: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template.from_dict(data, model="mobilefacenet_sirius_128d_fp16", version="v1", dim=128)
    assert info.value.code == code
    assert str(info.value).startswith(code)
    assert info.value.exit_code == 65


def test_load_template_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(TemplateError) as info:
        load_template(missing)
    assert info.value.code == "UNREADABLE"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TemplateError) as info:
        load_template(bad)
    assert info.value.code == "BAD_FORMAT"
    good = tmp_path / "good.json"
    make(2).save(good, "float16")
    assert load_template(good, dim=128).count == 2
