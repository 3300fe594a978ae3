"""Face embedders behind a small interface; the TFLite backend reads its preprocessing from the model manifest."""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from terminal.config import Config
from terminal.errors import ModelError
from terminal.modelstore import ModelSpec, model_path, spec, verified_bytes

log = logging.getLogger(__name__)

# Tried in this order for runtime = "auto": LiteRT is the maintained successor; tflite-runtime 2.14 does not
# work with numpy 2 but may be all a Pi image has.
RUNTIMES = {
    "litert": "ai_edge_litert.interpreter",
    "tflite": "tflite_runtime.interpreter",
}


class Embedder(ABC):
    """Turns an aligned face crop into an L2-normalised embedding."""

    name: str
    version: str
    dim: int
    input_size: int

    @abstractmethod
    def embed(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The (dim,) float32 unit-length embedding of one aligned RGB uint8 crop."""


def interpreter_class(runtime: str = "auto") -> tuple[str, Any]:
    """The ``Interpreter`` class of the requested runtime (``auto``: LiteRT, then tflite-runtime)."""
    names = list(RUNTIMES) if runtime == "auto" else [runtime]
    errors = []
    for name in names:
        if name not in RUNTIMES:
            raise ModelError(f"unknown TFLite runtime '{name}' (allowed: auto, {', '.join(RUNTIMES)})")
        try:
            module = importlib.import_module(RUNTIMES[name])
            return name, module.Interpreter
        except Exception as err:  # ImportError, or tflite-runtime's numpy-2 ABI error at import
            errors.append(f"{RUNTIMES[name]}: {err}")
    raise ModelError(
        "no TFLite runtime available (" + "; ".join(errors) + "): run ./setup.sh or pip install ai-edge-litert"
    )


class Preprocess:
    """The input recipe from a manifest entry: size, colour order, layout, ``(x - mean) * scale``."""

    def __init__(self, model: ModelSpec) -> None:
        """Read and check the manifest's ``input`` block; ModelError when a key is missing or unsupported."""
        inp = model.input
        try:
            self.width = int(inp["width"])
            self.height = int(inp["height"])
            self.color = str(inp["color"]).upper()
            self.mean = float(inp["mean"])
            self.scale = float(inp["scale"])
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"model '{model.name}': manifest input block lacks or mangles {err}") from None
        self.layout = str(inp.get("layout", "NHWC")).upper()
        self.alignment = str(inp.get("alignment", "arcface_5pt"))
        if self.color not in ("RGB", "BGR"):
            raise ModelError(f"model '{model.name}': colour order '{self.color}' is not supported (RGB or BGR)")
        if self.layout not in ("NHWC", "NCHW"):
            raise ModelError(f"model '{model.name}': layout '{self.layout}' is not supported (NHWC or NCHW)")
        if self.alignment != "arcface_5pt":
            raise ModelError(f"model '{model.name}': alignment '{self.alignment}' is not supported (arcface_5pt)")
        if self.width != self.height:
            raise ModelError(f"model '{model.name}': non-square input {self.width}x{self.height} is not supported")

    def __call__(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The (1, H, W, 3) or (1, 3, H, W) float32 input tensor for one aligned RGB uint8 crop."""
        if aligned_rgb.shape != (self.height, self.width, 3):
            raise ModelError(
                f"aligned face must be {self.height}x{self.width}x3, got {aligned_rgb.shape}: align with size={self.width}"
            )
        x = aligned_rgb[..., ::-1] if self.color == "BGR" else aligned_rgb
        x = (x.astype(np.float32) - np.float32(self.mean)) * np.float32(self.scale)
        if self.layout == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None])


class TFLiteEmbedder(Embedder):
    """A TFLite face-embedding model run by LiteRT (or tflite-runtime), fed as its manifest entry says."""

    def __init__(self, model: ModelSpec, path: Path, runtime: str = "auto", threads: int = 2) -> None:
        """Load ``path`` (already sha256-checked by the model store) into an interpreter with ``threads`` threads."""
        self.spec = model
        self.name = model.name
        self.version = model.version
        self.preprocess = Preprocess(model)
        self.input_size = self.preprocess.width
        self.runtime, interpreter_cls = interpreter_class(runtime)
        try:
            # Built from the bytes that were hashed (not the path): a swapped file cannot be what runs.
            self.interpreter = interpreter_cls(model_content=verified_bytes(path, model.sha256), num_threads=threads)
            self.interpreter.allocate_tensors()
        except ModelError:
            raise
        except Exception as err:  # the runtimes raise ValueError/RuntimeError with the flatbuffer's complaint
            raise ModelError(f"cannot load model {path} with {self.runtime}: {err}") from None
        inp = self.interpreter.get_input_details()[0]
        out = self.interpreter.get_output_details()[0]
        self._in_index = int(inp["index"])
        self._out_index = int(out["index"])
        expected = (1, self.preprocess.height, self.preprocess.width, 3)
        if self.preprocess.layout == "NCHW":
            expected = (1, 3, self.preprocess.height, self.preprocess.width)
        if tuple(int(v) for v in inp["shape"]) != expected:
            raise ModelError(
                f"model '{self.name}': input shape {tuple(inp['shape'])} does not match the manifest {expected}"
            )
        self.dim = int(out["shape"][-1])
        manifest_dim = int(model.output.get("dim", self.dim))
        if self.dim != manifest_dim:
            raise ModelError(f"model '{self.name}': output dim {self.dim} does not match the manifest ({manifest_dim})")
        # Normalise even when the manifest says the model does it: float16 weights leave it at 1 +- 1e-3 and a
        # second division is cheaper than reasoning about it. The manifest flag is kept for documentation.
        self.l2_in_model = bool(model.output.get("l2_normalised", False))
        log.info("embedder %s (%s) on %s, %d threads, %d-d", self.name, self.version, self.runtime, threads, self.dim)

    def invoke(self, tensor: np.ndarray) -> np.ndarray:
        """Run the interpreter on a prepared input tensor and return the raw (dim,) output."""
        self.interpreter.set_tensor(self._in_index, tensor)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self._out_index)[0], dtype=np.float32)

    def embed(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The (dim,) float32 unit-length embedding of one aligned RGB uint8 crop."""
        raw = self.invoke(self.preprocess(aligned_rgb))
        return l2_normalise(raw)


def l2_normalise(v: np.ndarray) -> np.ndarray:
    """``v`` divided by its L2 norm along the last axis (a zero vector stays zero)."""
    v = np.asarray(v, dtype=np.float32)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(norm, np.float32(1e-12))).astype(np.float32)


def load_embedder(cfg: Config, name: str | None = None) -> Embedder:
    """The configured embedder (``[models] embedder``), sha256-checked, on the configured runtime and threads."""
    model_name = name or cfg.models.embedder
    model = spec(model_name)
    if model.kind != "tflite_embedder":
        raise ModelError(f"model '{model_name}' is a {model.kind}, not a tflite_embedder")
    path = model_path(model_name, cfg.models.dir)
    return TFLiteEmbedder(model, path, runtime=cfg.matching.runtime, threads=cfg.matching.threads)
