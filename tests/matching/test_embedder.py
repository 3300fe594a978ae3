"""The TFLite embedder: manifest-driven preprocessing, runtimes, and refusing a tampered model."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from terminal.errors import ModelError
from terminal.matching.embedder import Preprocess, TFLiteEmbedder, interpreter_class, l2_normalise
from terminal.modelstore import model_path, spec

NAME = "mobilefacenet_sirius_128d_fp16"


def test_output_is_unit_length_and_deterministic(embedder: TFLiteEmbedder) -> None:
    crop = np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    a, b = embedder.embed(crop), embedder.embed(crop.copy())
    assert a.shape == (embedder.dim,) == (128,) and a.dtype == np.float32
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(a, b)
    assert embedder.name == NAME and embedder.version == spec(NAME).version


def test_preprocessing_comes_from_the_manifest() -> None:
    base = spec(NAME)
    crop = np.zeros((112, 112, 3), np.uint8)
    crop[..., 0] = 255  # pure red
    x = Preprocess(base)(crop)
    assert x.shape == (1, 112, 112, 3) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == pytest.approx((255 - 127.5) * 0.0078125) and x[0, 0, 0, 2] == pytest.approx(-0.99609375)
    bgr = dataclasses.replace(base, input={**base.input, "color": "BGR", "mean": 0.0, "scale": 1.0})
    y = Preprocess(bgr)(crop)
    assert y[0, 0, 0, 0] == 0.0 and y[0, 0, 0, 2] == 255.0  # red moved to the last channel, raw values
    nchw = dataclasses.replace(base, input={**base.input, "layout": "NCHW"})
    assert Preprocess(nchw)(crop).shape == (1, 3, 112, 112)


@pytest.mark.parametrize("bad", [{"color": "YUV"}, {"alignment": "bbox"}, {"mean": None}, {"layout": "HWC"}])
def test_unsupported_manifest_input_is_refused(bad: dict[str, object]) -> None:
    base = spec(NAME)
    with pytest.raises(ModelError):
        Preprocess(dataclasses.replace(base, input={**base.input, **bad}))


def test_wrong_crop_size_is_refused(embedder: TFLiteEmbedder) -> None:
    with pytest.raises(ModelError, match="112x112x3"):
        embedder.embed(np.zeros((96, 96, 3), np.uint8))


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    good = model_path(NAME)
    copy = tmp_path / good.name
    shutil.copyfile(good, copy)
    assert model_path(NAME, tmp_path) == copy  # the untouched copy passes
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the weights
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    (bad_dir / good.name).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="wrong sha256"):
        model_path(NAME, bad_dir)


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        model_path(NAME, tmp_path)


def test_runtime_selection() -> None:
    name, cls = interpreter_class("auto")
    assert name in ("litert", "tflite") and callable(cls)
    assert interpreter_class("litert")[0] == "litert"
    with pytest.raises(ModelError, match="unknown TFLite runtime"):
        interpreter_class("onnx")


def test_tflite_runtime_fallback_reports_clearly() -> None:
    # tflite-runtime is not installed in the dev venv (it does not work with numpy 2): asking for it by name
    # must be a one-line ModelError, not an ImportError.
    try:
        import tflite_runtime  # noqa: F401
    except Exception:
        with pytest.raises(ModelError, match="no TFLite runtime available"):
            interpreter_class("tflite")
    else:
        assert interpreter_class("tflite")[0] == "tflite"


def test_model_with_wrong_manifest_dim_is_refused() -> None:
    base = spec(NAME)
    wrong = dataclasses.replace(base, output={"dim": 512, "l2_normalised": True})
    with pytest.raises(ModelError, match="output dim"):
        TFLiteEmbedder(wrong, model_path(NAME), threads=1)


def test_l2_normalise() -> None:
    v = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(v, [[0.6, 0.8], [0.0, 0.0]])
