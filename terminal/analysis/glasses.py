"""Glasses that hide the eyes, told apart from glasses that do not (clear prescription glasses pass).

Three cues on the canonical crop, each its own check and instruction:

- ``DARK_GLASSES``: tinted or sun lenses. Lens darkness = 1 - (eye band + 8) / (cheeks + 8); sunglasses (CMU,
  Yale) measure 0.74-0.95, bare eyes and clear glasses <= 0.58 (ok set), side-lit faces up to 0.70.
- ``GLARE_ON_GLASSES``: light reflected by the lenses over the eyes. Share of eye-band pixels brighter than
  every part of the cheeks (their 99th percentile + 15, and >= 230): a catch-light in a bare eye is a few
  pixels (<= 0.07 on every shared image with a face that is not washed out); a lens reflection covers a
  patch. The level is capped at 250 (Yale's cheeks clip). A washed-out face (clipped forehead) is not judged
  for glare: its eyes are clipped too, and the instruction there is TOO_BRIGHT.
- ``OCCLUDED_GLASSES``: heavy frames across the eyes. Frame depth = the *shallower* of the bridge bar and the
  lower rim, each the depth of the deepest thin horizontal line in its band relative to local brightness: a
  heavy frame is deep in both places; lines 2 and 4 px half-wide are looked for (wire rims, heavy frames).
  Clear glasses measure <= 0.49 on the quality set (Yale subject08's bold black frames 0.32-0.49, CMU wire
  frames <= 0.2); the heaviest real frames in the shared data (faceapi_bbt "leonard", thick black frames with
  the eyes visible) 0.72. There is no real image of frames that hide the eyes in the shared data: the limit
  (0.8) sits above every frame that does not, and the check is tested on frames drawn in test code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from terminal.analysis.faceregion import CROP_W, EYE_Y, IED, FaceCrop
from terminal.analysis.measures import profile_depth

GLARE_MIN_LUMA = 230.0
GLARE_ABOVE_CHEEKS = 15.0
GLARE_MAX_LUMA = 250.0  # clipped is always glare-bright, however bright the cheeks
FRAME_STEPS = (2, 4)  # line half-widths looked for (canonical px): thin wire rims and heavy frames


@dataclass(frozen=True)
class GlassesCues:
    """The three glasses measures of one face."""

    darkness: float
    glare: float
    frame_depth: float


def _deepest_line(grey: np.ndarray, rows: tuple[float, float], cols: tuple[float, float]) -> float:
    """The deepest line of any of FRAME_STEPS' widths in a band (one row profile for all widths)."""
    r0, r1 = int(EYE_Y + rows[0] * IED), int(EYE_Y + rows[1] * IED)
    c0, c1 = int(CROP_W / 2 + cols[0] * IED), int(CROP_W / 2 + cols[1] * IED)
    p = grey[r0:r1, c0:c1].astype(np.float32).mean(axis=1)
    return max((profile_depth(p, step) for step in FRAME_STEPS), default=0.0)


def glasses_cues(crop: FaceCrop) -> GlassesCues:
    """Lens darkness, lens glare share and frame depth on the canonical crop (see the module docstring)."""
    eyes = np.concatenate([crop.region("eye_l").ravel(), crop.region("eye_r").ravel()]).astype(np.float32)
    cheeks = np.concatenate([crop.region("cheek_l").ravel(), crop.region("cheek_r").ravel()]).astype(np.float32)
    darkness = 1.0 - (float(eyes.mean()) + 8.0) / (float(cheeks.mean()) + 8.0)
    k = int(0.99 * (cheeks.size - 1))
    p99 = float(np.partition(cheeks, k)[k])  # the 99th percentile without np.percentile's overhead
    bright = min(max(p99 + GLARE_ABOVE_CHEEKS, GLARE_MIN_LUMA), GLARE_MAX_LUMA)
    glare = float((eyes >= bright).mean())
    grey = crop.grey
    bridge = _deepest_line(grey, (-0.45, 0.25), (-0.12, 0.12))
    rim = max(_deepest_line(grey, (0.1, 0.7), (-0.7, -0.3)), _deepest_line(grey, (0.1, 0.7), (0.3, 0.7)))
    return GlassesCues(darkness=darkness, glare=glare, frame_depth=min(bridge, rim))
