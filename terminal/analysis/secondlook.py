"""The gate's second look at a frame where the landmarker found no face: detector, then mesh the detection.

MediaPipe's FaceLandmarker runs its own face detector on the whole frame and meshes what it finds. On a
strong profile, a raised chin or a face under a pasted mask that step fails although the stand-alone
detector still finds the face. Cropping the frame around that detection (the face then fills half of a
256x256 canvas, the scale the landmark model is trained for) lets the landmarker mesh many of these faces:
the gate then measures the real pose, occlusion and light instead of saying "no face". A face that cannot be
meshed is still reported: a confident detection whose nose tip sits far to one side of the eyes is a head
turned away (POSE_YAW), several confident detections are MULTIPLE_FACES.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from terminal.analysis.detector import Detection, FaceDetector, containment, distinct
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation, observation_from_pixels

log = logging.getLogger(__name__)

CROP_SIZE = 256  # px of the canvas the detection is meshed on
CROP_SCALE = 2.0  # canvas side / detection box side: the face fills about half of the canvas
MAX_MESHED = 2  # mesh at most this many detections (one more than a member: enough to see a second face)


@dataclass
class SecondLook:
    """What the second look found: meshed faces (frame pixels, largest first) and the raw detections."""

    faces: list[FaceObservation] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)


def mesh_detection(landmarker: FaceLandmarker, image_rgb: np.ndarray, det: Detection) -> FaceObservation | None:
    """Mesh one detection on a square canvas around it; the observation is mapped back to frame pixels."""
    x0, y0, x1, y1 = det.box
    side = max(x1 - x0, y1 - y0) * CROP_SCALE
    if side < 4:
        return None
    s = CROP_SIZE / side
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    m = np.array([[s, 0.0, CROP_SIZE / 2 - cx * s], [0.0, s, CROP_SIZE / 2 - cy * s]])
    img = image_rgb if image_rgb.ndim == 3 else np.repeat(image_rgb[:, :, None], 3, axis=2)
    fill = [int(v) for v in img[::8, ::8, :3].reshape(-1, 3).mean(axis=0)]
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    canvas = cv2.warpAffine(
        img[:, :, :3], m, (CROP_SIZE, CROP_SIZE), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )
    found = landmarker.detect(canvas)
    if not found:
        return None
    pts = found[0].landmarks.copy()
    pts[:, 0] = (pts[:, 0] - m[0, 2]) / s
    pts[:, 1] = (pts[:, 1] - m[1, 2]) / s
    pts[:, 2] /= s
    return observation_from_pixels(pts, found[0].blendshapes, found[0].matrix)


def second_look(
    detector: FaceDetector, landmarker: FaceLandmarker, image_rgb: np.ndarray, min_score: float
) -> SecondLook:
    """Detect faces, then mesh the best ``MAX_MESHED`` detections of at least ``min_score``."""
    dets = distinct(detector.detect(image_rgb), min_score)
    faces: list[FaceObservation] = []
    for det in dets[:MAX_MESHED]:
        face = mesh_detection(landmarker, image_rgb, det)
        if face is not None and all(containment(face.bbox, f.bbox) < 0.3 for f in faces):
            faces.append(face)
    faces.sort(key=lambda f: -(f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
    log.debug("second look: %d detections, %d meshed", len(dets), len(faces))
    return SecondLook(faces=faces, detections=dets)


def equalised(image_rgb: np.ndarray) -> np.ndarray:
    """The frame with its luma contrast-equalised (CLAHE), as grey RGB: washed-out or dim faces regain edges."""
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY) if image_rgb.ndim == 3 else image_rgb
    eq = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(grey)
    return np.ascontiguousarray(np.repeat(eq[:, :, None], 3, axis=2))


def shifted(face: FaceObservation, dx: float, dy: float) -> FaceObservation:
    """The same face with its landmarks moved by (dx, dy) pixels."""
    pts = face.landmarks.copy()
    pts[:, 0] += dx
    pts[:, 1] += dy
    return observation_from_pixels(pts, face.blendshapes, face.matrix)


def third_look(
    detector: FaceDetector, landmarker: FaceLandmarker, image_rgb: np.ndarray, min_score: float, zoom_score: float
) -> list[FaceObservation]:
    """Faces neither the landmarker nor the second look found on the frame as it is, in frame pixels.

    Two causes measured on the shared quality set: a washed-out or very dim face whose edges are too faint
    for the landmarker's detector (the detector still finds it at 0.70, the mesh fails): contrast-limited
    equalisation of the luma brings the edges back; and a small face filling most of a low-resolution frame
    with the chin raised (CMU 128x120 "up": detector 0.18 as it is, 0.48 with the frame padded to twice its
    size, the scale at which the short-range detector was trained). The gate then measures every check on the
    original pixels at these landmarks: a face found this way is still judged TOO_BRIGHT, POSE_PITCH, etc.
    """
    faces = landmarker.detect(equalised(image_rgb))
    if faces:
        return faces
    h, w = image_rgb.shape[:2]
    py, px = h // 2, w // 2
    padded = cv2.copyMakeBorder(image_rgb, py, py, px, px, cv2.BORDER_REPLICATE)
    look = second_look(detector, landmarker, padded, min_score)
    if look.faces:
        return [shifted(f, -px, -py) for f in look.faces]
    return zoomed_look(detector, landmarker, image_rgb, zoom_score)


def zoomed_look(
    detector: FaceDetector, landmarker: FaceLandmarker, image_rgb: np.ndarray, min_score: float
) -> list[FaceObservation]:
    """Small faces: detect on the frame's centre half and on 2x2 tiles (the short-range detector sees a 128 px
    copy of its input, so a face 1/10 of a 640 px frame is 13 px to it on the whole frame, 26 px on the centre
    half), then mesh the best detections on a crop around them. A member standing far back with the chin
    raised is then told to come closer (FACE_TOO_SMALL) and to level the head (POSE_PITCH), not "no face"."""
    h, w = image_rgb.shape[:2]
    cy0, cx0 = h // 4, w // 4
    dets = detector.detect(image_rgb[cy0 : h - cy0, cx0 : w - cx0], cx0, cy0) + detector.detect_tiled(image_rgb)
    faces: list[FaceObservation] = []
    for det in distinct(dets, min_score)[:MAX_MESHED]:
        face = mesh_detection(landmarker, image_rgb, det)
        if face is not None and all(containment(face.bbox, f.bbox) < 0.3 for f in faces):
            faces.append(face)
    return faces
