"""An opt-in on-disk cache of model outputs (landmarks, detections, embeddings) per still image, for evaluations.

Re-running an evaluation after changing a gate limit or measure should not re-run MediaPipe or the embedder
on every image: the models' outputs depend only on the image and the model, never on the gate's settings.
Entries are keyed by the SHA-256 of the pixels plus the model's identity and call parameters, so a cache can
never answer for another image or model. Only the stills of dataset evaluations use it (streams do not:
VIDEO-mode results depend on the previous frames).

Landmarks and embeddings are biometric: nothing is cached unless an evaluation is given a cache directory
(``--cache DIR``); the directory is made owner-only (0700) and every file 0600. Files are ``.npz`` read with
``allow_pickle=False``, so a planted file cannot run code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from terminal.analysis.detector import Detection
from terminal.analysis.landmarker import FaceObservation, observation_from_pixels

log = logging.getLogger(__name__)


def image_digest(image: np.ndarray) -> str:
    """SHA-256 of an image's shape, dtype and pixels."""
    h = hashlib.sha256(f"{image.shape}|{image.dtype}|".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


class ModelCache:
    """A directory of ``.npz`` entries keyed by (kind, model identity, image digest)."""

    def __init__(self, root: Path) -> None:
        """Use (and create, owner-only) ``root``."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, ident: str, digest: str) -> Path:
        key = hashlib.sha256(f"{kind}|{ident}|{digest}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.npz"

    def load(self, kind: str, ident: str, digest: str) -> dict[str, np.ndarray] | None:
        """The arrays stored for this key, or None (a damaged entry counts as missing)."""
        path = self._path(kind, ident, digest)
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def store(self, kind: str, ident: str, digest: str, arrays: dict[str, Any]) -> None:
        """Write the arrays atomically (temp file + rename), owner-only."""
        path = self._path(kind, ident, digest)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _faces_to_arrays(faces: list[FaceObservation]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": np.array(len(faces))}
    for i, f in enumerate(faces):
        names = sorted(f.blendshapes)
        out[f"lm{i}"] = f.landmarks
        out[f"mat{i}"] = f.matrix
        out[f"bn{i}"] = np.array(names, dtype=str)
        out[f"bs{i}"] = np.array([f.blendshapes[k] for k in names], dtype=np.float64)
    return out


def _faces_from_arrays(a: dict[str, np.ndarray]) -> list[FaceObservation]:
    faces = []
    for i in range(int(a["n"])):
        shapes = {str(k): float(v) for k, v in zip(a[f"bn{i}"], a[f"bs{i}"], strict=True)}
        faces.append(observation_from_pixels(a[f"lm{i}"], shapes, a[f"mat{i}"]))
    return faces


def _model_ident(model: Any, *params: Any) -> str:
    """The wrapped model's class and the parameters that change its output."""
    path = getattr(model, "model_path", None)
    return "|".join([type(model).__name__, str(path)] + [str(p) for p in params])


class CachedLandmarker:
    """A FaceLandmarker whose IMAGE-mode ``detect`` results come from the cache when present."""

    def __init__(self, inner: Any, cache: ModelCache) -> None:
        """Wrap ``inner`` (a FaceLandmarker); VIDEO-mode calls and timestamped calls pass straight through."""
        self.inner = inner
        self.cache = cache
        self.ident = _model_ident(
            inner,
            getattr(inner, "mode", ""),
            getattr(inner, "max_faces", ""),
            getattr(inner, "min_detection_confidence", ""),
        )

    def detect(self, image_rgb: np.ndarray, timestamp_s: float | None = None) -> list[FaceObservation]:
        """Cached faces of a still image (largest first), like FaceLandmarker.detect."""
        if timestamp_s is not None or getattr(self.inner, "mode", "image") != "image":
            return list(self.inner.detect(image_rgb, timestamp_s))
        digest = image_digest(image_rgb)
        hit = self.cache.load("landmarks", self.ident, digest)
        if hit is not None:
            return _faces_from_arrays(hit)
        faces = list(self.inner.detect(image_rgb))
        self.cache.store("landmarks", self.ident, digest, _faces_to_arrays(faces))
        return faces

    def close(self) -> None:
        """Close the wrapped landmarker."""
        self.inner.close()


class CachedDetector:
    """A FaceDetector whose ``detect`` and ``detect_tiled`` results come from the cache when present."""

    def __init__(self, inner: Any, cache: ModelCache) -> None:
        """Wrap ``inner`` (a FaceDetector)."""
        self.inner = inner
        self.cache = cache
        self.ident = _model_ident(inner, getattr(inner, "min_score", ""))

    def _cached(self, kind: str, image_rgb: np.ndarray, run: Any) -> list[Detection]:
        digest = image_digest(image_rgb)
        hit = self.cache.load(kind, self.ident, digest)
        if hit is not None:
            return [
                Detection(
                    box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                    score=float(s),
                    keypoints=k.astype(np.float32).reshape(-1, 2),
                )
                for b, s, k in zip(hit["box"], hit["score"], hit["kps"], strict=True)
            ]
        dets: list[Detection] = run()
        kps = np.stack([d.keypoints for d in dets]) if dets else np.zeros((0, 6, 2), np.float32)
        self.cache.store(
            kind,
            self.ident,
            digest,
            {
                "box": np.array([d.box for d in dets], dtype=np.float64).reshape(-1, 4),
                "score": np.array([d.score for d in dets], dtype=np.float64),
                "kps": kps,
            },
        )
        return dets

    def detect(self, image_rgb: np.ndarray, x0: int = 0, y0: int = 0) -> list[Detection]:
        """Cached FaceDetector.detect."""
        return self._cached(f"detect{x0},{y0}", image_rgb, lambda: self.inner.detect(image_rgb, x0, y0))

    def detect_tiled(self, image_rgb: np.ndarray) -> list[Detection]:
        """Cached FaceDetector.detect_tiled."""
        return self._cached("tiled", image_rgb, lambda: self.inner.detect_tiled(image_rgb))

    def close(self) -> None:
        """Close the wrapped detector."""
        self.inner.close()
