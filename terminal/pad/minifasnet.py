"""MiniFASNet (V2 at crop scale 2.7, V1SE at 4.0) as a PAD backend: BGR 0-255 80x80 patches, mean of class 1.

Recipe and pitfalls from ../shared/models/PROVENANCE.md: raw 0-255 BGR input (/255 makes every face spoof, RGB
makes attacks live); upstream's patch crop around the face box scaled by the model's factor; softmax class 1 is
live; the two models' live probabilities are averaged.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from terminal.errors import ModelError
from terminal.modelstore import ModelSpec, model_path, spec
from terminal.pad.base import PadBackend
from terminal.pad.crop import Box, pad_patch

log = logging.getLogger(__name__)


class MiniFasModel:
    """One MiniFASNet TFLite model with its crop scale, fed as its manifest entry says."""

    def __init__(self, model: ModelSpec, interpreter: Any) -> None:
        inp = model.input
        try:
            self.size = int(inp["width"])
            self.scale = float(inp["crop_scale"])
            self.color = str(inp["color"]).upper()
            self.live_class = int(model.output.get("live_class", 1))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelError(f"model '{model.name}': manifest input block lacks or mangles {err}") from None
        if self.color != "BGR" or float(inp.get("mean", 0.0)) != 0.0 or float(inp.get("scale", 1.0)) != 1.0:
            raise ModelError(f"model '{model.name}': MiniFASNet takes raw 0-255 BGR (manifest says otherwise)")
        self.name = model.name
        self.interpreter = interpreter
        self.interpreter.allocate_tensors()
        d_in = self.interpreter.get_input_details()[0]
        d_out = self.interpreter.get_output_details()[0]
        if tuple(int(v) for v in d_in["shape"]) != (1, self.size, self.size, 3):
            raise ModelError(
                f"model '{model.name}': input shape {tuple(d_in['shape'])} is not (1, {self.size}, {self.size}, 3)"
            )
        self._in, self._out = int(d_in["index"]), int(d_out["index"])

    def live(self, image_rgb: np.ndarray, box: Box) -> float:
        """The softmax live probability of one face (the 80x80 patch is turned to BGR, only it)."""
        patch = pad_patch(image_rgb, box, self.scale, self.size)[..., ::-1]
        self.interpreter.set_tensor(self._in, np.ascontiguousarray(patch[None].astype(np.float32)))
        self.interpreter.invoke()
        return float(self.interpreter.get_tensor(self._out)[0][self.live_class])


class MiniFasNetBackend(PadBackend):
    """The MiniFASNet pair: live score = mean of the models' live probabilities."""

    def __init__(self, models: list[MiniFasModel]) -> None:
        if not models:
            raise ModelError("PAD backend minifasnet needs at least one model")
        self.models = models
        self.name = "+".join(m.name for m in models)

    def score(self, image_rgb: np.ndarray, box: Box) -> float:
        """Mean live probability of the models on the face in ``box``."""
        return float(np.mean([m.live(image_rgb, box) for m in self.models]))

    def per_model(self, image_rgb: np.ndarray, box: Box) -> dict[str, float]:
        """Each model's live probability (for evaluation and the docs)."""
        return {m.name: m.live(image_rgb, box) for m in self.models}


def load_minifasnet(
    names: tuple[str, ...], models_dir: Any = None, runtime: str = "auto", threads: int = 1
) -> MiniFasNetBackend:
    """Load the named manifest models (sha256-checked) into interpreters."""
    from terminal.matching.embedder import interpreter_class

    rt, interpreter_cls = interpreter_class(runtime)
    models = []
    for name in names:
        s = spec(name)
        if s.kind != "tflite_pad":
            raise ModelError(f"model '{name}' is a {s.kind}, not a tflite_pad")
        path = model_path(name, models_dir)
        try:
            interp = interpreter_cls(model_path=str(path), num_threads=threads)
        except Exception as err:  # the runtimes raise ValueError/RuntimeError with the flatbuffer's complaint
            raise ModelError(f"cannot load model {path} with {rt}: {err}") from None
        models.append(MiniFasModel(s, interp))
    log.info("PAD backend minifasnet: %s on %s", ", ".join(names), rt)
    return MiniFasNetBackend(models)
