"""MediaPipe BlazeFace short-range detector: the gate's second opinion on faces the landmarker misses.

The FaceLandmarker does not return a face for strong profiles, some raised chins or pasted masks even when a
face is plainly there, and it misses small faces in the background. The stand-alone short-range detector
(``face_detector`` in models/manifest.json) still finds those: a box, a score and six keypoints (eyes, nose
tip, mouth centre, ear tragions). The gate uses it only as a secondary, rate-limited look (see gate.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from terminal.errors import ModelError

log = logging.getLogger(__name__)

# Keypoint rows of a Detection (MediaPipe order; "right" = the subject's right = image left).
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH = 0, 1, 2, 3
# Tiles for counting small faces: 2x2, each this share of the frame width/height (they overlap by 20%).
TILE_SHARE = 0.6


@dataclass(frozen=True)
class Detection:
    """One detected face: box (x0, y0, x1, y1) in pixels, score, and (6, 2) pixel keypoints."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    def yaw_ratio(self) -> float:
        """Horizontal offset of the nose tip from the eye midpoint, in eye distances (0 frontal, ~0.5 at 45 deg).

        On a frontal face the nose tip lies on the eyes' perpendicular bisector; turning the head moves it
        sideways by about the nose depth times sin(yaw) while the eye distance shrinks with cos(yaw).
        """
        k = self.keypoints
        eyes = k[LEFT_EYE] - k[RIGHT_EYE]
        dist = float(np.hypot(*eyes))
        if dist < 1e-3:
            return 0.0
        mid = (k[LEFT_EYE] + k[RIGHT_EYE]) / 2.0
        # Project onto the eye axis so that a rolled (tilted) head does not read as turned.
        return float(np.dot(k[NOSE_TIP] - mid, eyes / dist)) / dist


def containment(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box's area (1 when one box lies inside the other)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / small if small > 0 else 0.0


def distinct(dets: list[Detection], min_score: float, max_overlap: float = 0.3) -> list[Detection]:
    """Detections of at least ``min_score``, best first, dropping any that overlap a better one.

    Overlap is measured as containment, not IoU: a face cut by a tile edge gives a smaller box inside the
    whole face's box, which IoU would count as a second face.
    """
    keep: list[Detection] = []
    for d in sorted((d for d in dets if d.score >= min_score), key=lambda d: -d.score):
        if all(containment(d.box, k.box) < max_overlap for k in keep):
            keep.append(d)
    return keep


class FaceDetector:
    """MediaPipe Tasks FaceDetector (BlazeFace short range) in IMAGE mode."""

    def __init__(self, model_path: Path | None = None, min_score: float = 0.35) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        from terminal.modelstore import verified_bytes

        if model_path is None:
            from terminal.modelstore import model_path as find_model

            model_path = find_model("face_detector")
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"face detector model {path} is missing: run ./setup.sh or set [models] dir")
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_buffer=verified_bytes(path)), min_detection_confidence=min_score
        )
        try:
            self._task: Any = vision.FaceDetector.create_from_options(options)
        except Exception as err:  # MediaPipe raises RuntimeError/ValueError with a long status text
            raise ModelError(f"cannot load face detector model {path}: {str(err).splitlines()[0]}") from None
        self.model_path = path
        self.min_score = min_score
        log.debug("face detector loaded from %s", path)

    def detect(self, image_rgb: np.ndarray, x0: int = 0, y0: int = 0) -> list[Detection]:
        """Faces in an RGB uint8 image (HxW grey accepted); ``x0``/``y0`` shift the results (for tiles)."""
        import mediapipe as mp

        img = image_rgb if image_rgb.ndim == 3 else np.repeat(image_rgb[:, :, None], 3, axis=2)
        img = np.ascontiguousarray(img[:, :, :3])
        h, w = img.shape[:2]
        result = self._task.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=img))
        out = []
        for d in result.detections:
            b = d.bounding_box
            kps = np.array([(k.x * w + x0, k.y * h + y0) for k in d.keypoints], dtype=np.float32).reshape(-1, 2)
            box = (
                float(b.origin_x + x0),
                float(b.origin_y + y0),
                float(b.origin_x + b.width + x0),
                float(b.origin_y + b.height + y0),
            )
            out.append(Detection(box=box, score=float(d.categories[0].score), keypoints=kps))
        return out

    def detect_tiled(self, image_rgb: np.ndarray) -> list[Detection]:
        """Detections on four overlapping tiles (small background faces; large ones are the landmarker's).

        The short-range model sees a 128x128 copy of its input: a face 1/10 of a 640 px frame is 13 px
        there, too small; in a 0.6-share tile it is twice as large.
        """
        h, w = image_rgb.shape[:2]
        th, tw = int(h * TILE_SHARE), int(w * TILE_SHARE)
        out: list[Detection] = []
        for ty in (0, h - th):
            for tx in (0, w - tw):
                out += self.detect(image_rgb[ty : ty + th, tx : tx + tw], tx, ty)
        return out

    def close(self) -> None:
        """Release the MediaPipe graph."""
        task, self._task = self._task, None
        if task is not None:
            task.close()

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
