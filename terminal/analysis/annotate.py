"""Draw a verdict on a copy of the image: landmarks, head-pose axes, face box and the failing codes."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from terminal.analysis.verdict import Verdict
from terminal.privacy import private_dir, write_image


def draw_verdict(image_rgb: np.ndarray, verdict: Verdict) -> np.ndarray:
    """A BGR copy of the image with the verdict drawn on it (for people who would rather look)."""
    img = (
        cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
        if image_rgb.ndim == 3
        else cv2.cvtColor(image_rgb, cv2.COLOR_GRAY2BGR)
    )
    scale = max(1.0, 480.0 / max(img.shape[:2]))
    if scale > 1.0:  # small research images: enlarge so the text stays readable
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    colour = (0, 200, 0) if verdict.passed else (0, 0, 230)
    face = verdict.face
    if face is not None:
        for x, y in face.landmarks[:, :2] * scale:
            cv2.circle(img, (int(x), int(y)), 1, (255, 200, 0), -1)
        x0, y0, x1, y1 = (int(v * scale) for v in face.bbox)
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, 1)
        _draw_axes(img, face.landmarks[1, :2] * scale, face.yaw, face.pitch, face.roll, (x1 - x0) * 0.5)
    lines = ["PASS" if verdict.passed else "FAIL", *verdict.failures, *(f"({c})" for c in verdict.advisories)]
    for i, text in enumerate(lines):
        cv2.putText(img, text, (6, 18 + 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return img


def _draw_axes(img: np.ndarray, origin: np.ndarray, yaw: float, pitch: float, roll: float, length: float) -> None:
    """Head axes from the Euler angles: x red (to the subject's left), y green (down), z blue (out of the face)."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    rot = rz @ ry @ rx
    o = (int(origin[0]), int(origin[1]))
    for axis, colour in (
        (np.array([1, 0, 0]), (0, 0, 255)),
        (np.array([0, -1, 0]), (0, 255, 0)),
        (np.array([0, 0, 1]), (255, 0, 0)),
    ):
        v = rot @ axis
        # Image y grows downwards: flip the y component of the head frame.
        end = (int(origin[0] + v[0] * length), int(origin[1] - v[1] * length))
        cv2.line(img, o, end, colour, 2, cv2.LINE_AA)


def write_annotated(path: Path, image_rgb: np.ndarray, verdict: Verdict) -> None:
    """Write the annotated copy as JPEG (creating the folder); SourceError if it cannot be written."""
    private_dir(path.parent)
    write_image(path, draw_verdict(image_rgb, verdict))  # owner-only: it shows a face
