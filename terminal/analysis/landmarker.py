"""MediaPipe Tasks FaceLandmarker behind a small interface: pixel landmarks, blendshapes and head pose."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from terminal.errors import ModelError

log = logging.getLogger(__name__)

# Eye-corner landmark indices of the 478-point mesh (subject's right eye is on the image left).
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (362, 263)


@dataclass
class FaceObservation:
    """One detected face: landmarks in pixels, blendshape scores, the 4x4 pose matrix and derived geometry.

    ``landmarks`` is (478, 3) float32: x, y in pixels; z in pixels too (MediaPipe scales z like x, by the
    image width). Angles are degrees from R = M[:3, :3] (see ../shared/models/PROVENANCE.md):
    ``yaw`` = atan2(-R20, hypot(R00, R10)), negative when the face turns toward the image's left;
    ``pitch`` = atan2(R21, R22), negative when the face looks up (chin up); ``roll`` = atan2(R10, R00), positive when
    the head tilts counter-clockwise as seen in the image.
    """

    landmarks: np.ndarray
    blendshapes: dict[str, float]
    matrix: np.ndarray
    bbox: tuple[float, float, float, float]
    yaw: float
    pitch: float
    roll: float
    inter_eye_px: float
    eye_centers: tuple[tuple[float, float], tuple[float, float]] = field(default=((0.0, 0.0), (0.0, 0.0)))

    @property
    def center(self) -> tuple[float, float]:
        """Centre of the landmark bounding box in pixels."""
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0


def euler_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a 4x4 facial transformation matrix (scale removed first)."""
    r = np.asarray(matrix, dtype=np.float64)[:3, :3]
    norms = np.linalg.norm(r, axis=0)
    r = r / np.where(norms > 1e-9, norms, 1.0)
    yaw = math.degrees(math.atan2(-r[2, 0], math.hypot(r[0, 0], r[1, 0])))
    pitch = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    roll = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    return yaw, pitch, roll


def observation_from_result(landmarks: Any, blendshapes: Any, matrix: Any, width: int, height: int) -> FaceObservation:
    """Build a FaceObservation from one face of a MediaPipe FaceLandmarkerResult."""
    pts = np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float32)
    pts[:, 0] *= width
    pts[:, 1] *= height
    pts[:, 2] *= width
    shapes = {c.category_name: float(c.score) for c in blendshapes} if blendshapes is not None else {}
    mat = np.asarray(matrix, dtype=np.float32).reshape(4, 4) if matrix is not None else np.eye(4, dtype=np.float32)
    return observation_from_pixels(pts, shapes, mat)


def observation_from_pixels(pts: np.ndarray, shapes: dict[str, float], mat: np.ndarray) -> FaceObservation:
    """Build a FaceObservation from (478, 3) pixel landmarks, blendshape scores and the 4x4 pose matrix."""
    pts = np.asarray(pts, dtype=np.float32)
    x0, y0 = float(pts[:, 0].min()), float(pts[:, 1].min())
    x1, y1 = float(pts[:, 0].max()), float(pts[:, 1].max())
    right = pts[list(RIGHT_EYE_CORNERS), :2].mean(axis=0)
    left = pts[list(LEFT_EYE_CORNERS), :2].mean(axis=0)
    yaw, pitch, roll = euler_from_matrix(mat)
    return FaceObservation(
        landmarks=pts,
        blendshapes=shapes,
        matrix=mat,
        bbox=(x0, y0, x1, y1),
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        inter_eye_px=float(np.hypot(*(left - right))),
        eye_centers=((float(right[0]), float(right[1])), (float(left[0]), float(left[1]))),
    )


class FaceLandmarker:
    """MediaPipe FaceLandmarker (478 landmarks, 52 blendshapes, pose matrix) in IMAGE or VIDEO mode.

    VIDEO mode tracks the face between frames (faster, steadier) and needs strictly increasing millisecond
    timestamps; they come from the frame's own timestamp and are nudged forward when two frames would share
    a millisecond or a replay loops back.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        mode: Literal["image", "video"] = "image",
        max_faces: int = 3,
        min_detection_confidence: float = 0.5,
    ) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        from terminal.modelstore import verified_bytes

        if model_path is None:
            from terminal.modelstore import model_path as find_model

            model_path = find_model("face_landmarker")
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"face landmarker model {path} is missing: run ./setup.sh or set [models] dir")
        if mode not in ("image", "video"):
            raise ValueError(f"mode must be 'image' or 'video', not {mode!r}")
        self.mode = mode
        self.max_faces = max_faces
        self.model_path = path
        self.min_detection_confidence = min_detection_confidence
        running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=verified_bytes(path)),
            running_mode=running,
            num_faces=max_faces,
            min_face_detection_confidence=min_detection_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        import mediapipe

        from terminal.pimodel import lse_problem

        problem = lse_problem(Path(mediapipe.__file__).parent)  # a SIGILL abort otherwise (Pi 4)
        if problem:
            raise ModelError(f"cannot run the face landmarker here: {problem}")
        try:
            self._task: Any = vision.FaceLandmarker.create_from_options(options)
        except Exception as err:  # MediaPipe raises RuntimeError/ValueError with a long status text
            raise ModelError(f"cannot load face landmarker model {path}: {str(err).splitlines()[0]}") from None
        self._last_ms: int | None = None
        log.debug("face landmarker loaded from %s (%s mode, %d faces)", path, mode, max_faces)

    def _timestamp_ms(self, timestamp_s: float | None) -> int:
        ms = round(timestamp_s * 1000.0) if timestamp_s is not None else None
        if ms is None:
            ms = 0 if self._last_ms is None else self._last_ms + 33
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1  # MediaPipe refuses equal or decreasing timestamps
        self._last_ms = ms
        return ms

    def detect(self, image_rgb: np.ndarray, timestamp_s: float | None = None) -> list[FaceObservation]:
        """Faces in an RGB uint8 image (greyscale HxW is accepted and expanded), largest first."""
        import mediapipe as mp

        img = image_rgb
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        elif img.shape[2] == 4:
            img = img[:, :, :3]
        if img.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image, got {img.dtype}")
        if not img.flags.c_contiguous:
            img = np.ascontiguousarray(img)
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=img)
        if self.mode == "video":
            result = self._task.detect_for_video(mp_image, self._timestamp_ms(timestamp_s))
        else:
            result = self._task.detect(mp_image)
        h, w = img.shape[:2]
        faces = []
        for i, lms in enumerate(result.face_landmarks):
            shapes = result.face_blendshapes[i] if result.face_blendshapes else None
            mat = result.facial_transformation_matrixes[i] if result.facial_transformation_matrixes else None
            faces.append(observation_from_result(lms, shapes, mat, w, h))
        faces.sort(key=lambda f: -(f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
        return faces

    def close(self) -> None:
        """Release the MediaPipe graph."""
        task, self._task = self._task, None
        if task is not None:
            task.close()

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
