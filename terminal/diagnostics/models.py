"""Diagnostics of the models: listed in the manifest, present, sha256 right, and they load and run once."""

from __future__ import annotations

import logging
import time

import numpy as np

from terminal.config import Config
from terminal.diagnostics.report import CheckResult
from terminal.errors import TerminalError
from terminal.modelstore import model_path, spec

log = logging.getLogger(__name__)


def _test_image(image: np.ndarray | None) -> np.ndarray:
    """The camera's last frame as RGB uint8, or a mid-grey frame when there is none."""
    if image is None:
        return np.full((480, 640, 3), 128, np.uint8)
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """A square centre crop resized to ``size`` (input for one embedder run; alignment is not the point)."""
    import cv2

    h, w = image.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    return cv2.resize(image[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA)


def check_models(cfg: Config, image: np.ndarray | None = None) -> CheckResult:
    """Landmarker and embedder: manifest entry, file, sha256, load, and one inference with sane output."""
    from terminal.analysis.landmarker import FaceLandmarker
    from terminal.matching.embedder import load_embedder

    details: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    frame = _test_image(image)
    for role, name in (("landmarker", cfg.models.landmarker), ("embedder", cfg.models.embedder)):
        entry: dict[str, object] = {"name": name}
        details[role] = entry
        try:
            s = spec(name)
            entry.update(version=s.version, sha256=s.sha256[:16])
            path = model_path(name, cfg.models.dir)  # checks presence and sha256
            entry["path"] = str(path)
            t0 = time.perf_counter()
            if role == "landmarker":
                with FaceLandmarker(path, mode="image") as lm:
                    entry["load_ms"] = round(1000 * (time.perf_counter() - t0))
                    t1 = time.perf_counter()
                    faces = lm.detect(frame)
                entry["run_ms"] = round(1000 * (time.perf_counter() - t1))
                entry["faces"] = len(faces)
            else:
                emb = load_embedder(cfg, name)
                entry["load_ms"] = round(1000 * (time.perf_counter() - t0))
                t1 = time.perf_counter()
                vec = emb.embed(_centre_crop(frame, emb.input_size))
                entry["run_ms"] = round(1000 * (time.perf_counter() - t1))
                norm = float(np.linalg.norm(vec))
                entry.update(dim=int(vec.shape[-1]), norm=round(norm, 4))
                if vec.shape != (emb.dim,) or not np.all(np.isfinite(vec)) or abs(norm - 1.0) > 0.01:
                    problems.append(f"{name}: bad output (shape {vec.shape}, norm {norm:.3f})")
        except TerminalError as err:
            entry["error"] = str(err)
            problems.append(str(err))
        except Exception as err:  # a runtime's own error while running the model
            entry["error"] = f"{type(err).__name__}: {err}"
            problems.append(f"{name}: {type(err).__name__}: {err}")
    if cfg.pad.enabled:
        problems += _check_pad(cfg, frame, details)
    if problems:
        return CheckResult("models", "fail", "; ".join(problems), details)
    lmk, emb_info = details["landmarker"], details["embedder"]
    return CheckResult(
        "models",
        "pass",
        f"{lmk['name']} ({lmk['faces']} face(s), {lmk['run_ms']} ms), "
        f"{emb_info['name']} ({emb_info['dim']}-d, {emb_info['run_ms']} ms), sha256 ok",
        details,
    )


def _check_pad(cfg: Config, frame: np.ndarray, details: dict[str, dict[str, object]]) -> list[str]:
    """The PAD models ([pad]): manifest, sha256, load, one score in [0, 1] on a centre box."""
    from terminal.pad.factory import load_pad_backend

    entry: dict[str, object] = {"name": "+".join(cfg.pad.models)}
    details["pad"] = entry
    try:
        t0 = time.perf_counter()
        backend = load_pad_backend(cfg)
        entry["load_ms"] = round(1000 * (time.perf_counter() - t0))
        h, w = frame.shape[:2]
        t1 = time.perf_counter()
        score = backend.score(frame, (w / 3, h / 3, w / 3, h / 3))
        entry.update(run_ms=round(1000 * (time.perf_counter() - t1)), score=round(score, 3))
        return [] if 0.0 <= score <= 1.0 else [f"PAD {entry['name']}: score {score} outside [0, 1]"]
    except TerminalError as err:
        entry["error"] = str(err)
        return [str(err)]
