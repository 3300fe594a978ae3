"""The quality gate: run the landmarker, measure every check on the primary face, and return a Verdict."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from terminal.analysis import codes as C
from terminal.analysis import measures
from terminal.analysis.faceregion import face_crop
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation
from terminal.analysis.settings import QualityConfig
from terminal.analysis.steadiness import SteadinessTracker
from terminal.analysis.verdict import CheckResult, Verdict

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)

# How much smaller the close-probe makes the frame: a face that fills it then covers about half of it.
PROBE_SHRINK = 0.5
# At most one close-probe per this much frame time in a stream (an empty terminal must not double its CPU load).
PROBE_INTERVAL_S = 0.5


def _margin(value: float, lo: float | None, hi: float | None) -> float:
    """How comfortably ``value`` sits inside its limits: 1 well inside (or centred), 0 at or beyond a limit."""
    if lo is not None and hi is not None:
        half = (hi - lo) / 2.0
        return float(np.clip(1.0 - abs(value - (lo + hi) / 2.0) / half, 0.0, 1.0)) if half > 0 else 0.0
    if hi is not None:
        return float(np.clip(1.0 - value / hi, 0.0, 1.0)) if hi > 0 else 0.0
    if lo is not None:
        return float(np.clip((value - lo) / lo, 0.0, 1.0)) if lo > 0 else 1.0
    return 1.0


def _check(code: str, value: float, lo: float | None, hi: float | None) -> CheckResult:
    passed = (lo is None or value >= lo) and (hi is None or value <= hi)
    return CheckResult(code=code, value=float(value), limits=(lo, hi), passed=bool(passed))


class QualityGate:
    """Per-frame quality verdicts; keeps stream state (for UNSTEADY) when frames come with timestamps.

    ``skip`` turns checks off by reason code (e.g. the framing checks on small research images); NO_FACE
    cannot be skipped because nothing else can be measured without a face.
    """

    def __init__(self, config: QualityConfig, landmarker: FaceLandmarker | None = None,
                 skip: Iterable[str] = ()) -> None:
        self.config = config
        self._own_landmarker = landmarker is None
        self.landmarker = landmarker or FaceLandmarker(
            mode="image", max_faces=max(3, config.max_faces + 1),
            min_detection_confidence=config.min_detection_confidence)
        self.skip = frozenset(skip) - {C.NO_FACE}
        unknown = self.skip - C.GATE_CODES
        if unknown:
            raise ValueError(f"unknown reason code(s) to skip: {', '.join(sorted(unknown))}")
        self._steady = SteadinessTracker(config.steady_window_s)
        self._probe: FaceLandmarker | None = None
        self._last_probe_t: float | None = None

    @classmethod
    def from_config(cls, cfg: Config, mode: Literal["image", "video"] = "video",
                    skip: Iterable[str] = ()) -> QualityGate:
        """A gate with its own landmarker built from the ``[models]`` and ``[quality]`` sections."""
        from terminal.modelstore import model_path

        q = cfg.quality
        lm = FaceLandmarker(model_path(cfg.models.landmarker, cfg.models.dir), mode=mode,
                            max_faces=max(3, q.max_faces + 1), min_detection_confidence=q.min_detection_confidence)
        gate = cls(q, lm, skip=skip)
        gate._own_landmarker = True
        return gate

    def reset(self) -> None:
        """Clear the stream state (steadiness window, probe timer): call between members."""
        self._steady.reset()
        self._last_probe_t = None

    def close(self) -> None:
        """Release the landmarkers this gate created."""
        if self._own_landmarker:
            self.landmarker.close()
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    def __enter__(self) -> QualityGate:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- the verdict ---------------------------------------------------------------------------------------

    def analyze(self, image_rgb: np.ndarray, timestamp_s: float | None = None) -> Verdict:
        """Run every enabled check on one RGB frame; pass ``timestamp_s`` (frame time) in streams."""
        faces = self.landmarker.detect(image_rgb, timestamp_s)
        if not faces:
            self._steady.reset()
            return self._no_face(image_rgb, timestamp_s)
        face = faces[0]
        results = [CheckResult(C.NO_FACE, float(len(faces)), (1.0, None), True)]
        results += self._framing(face, len(faces), image_rgb.shape[1], image_rgb.shape[0])
        results += self._pose(face)
        crop = face_crop(image_rgb, face)
        if C.EYES_CLOSED not in self.skip:
            results.append(_check(C.EYES_CLOSED, min(measures.eye_openness(face)), self.config.min_eye_openness, None))
        if C.OCCLUDED_GLASSES not in self.skip:
            results.append(_check(C.OCCLUDED_GLASSES, measures.glasses_score(crop), None, self.config.max_glasses_score))
        if C.OCCLUDED_FACE not in self.skip:
            results.append(_check(C.OCCLUDED_FACE, measures.occlusion_score(crop), None,
                                  self.config.max_occlusion_score))
        luma, under, over = measures.luminance_stats(crop)
        results += self._light(crop, luma, under, over)
        if C.BLURRY not in self.skip:
            results.append(_check(C.BLURRY, measures.sharpness(crop), self.config.min_sharpness, None))
        if timestamp_s is not None and C.UNSTEADY not in self.skip:
            speed = self._steady.update(timestamp_s, face)
            if speed is not None:
                results.append(_check(C.UNSTEADY, speed, None, self.config.max_jitter))
        h, w = image_rgb.shape[:2]
        x0, y0, x1, y1 = face.bbox
        box = (max(int(x0), 0), max(int(y0), 0), min(round(x1), w), min(round(y1), h))
        return self._verdict(results, len(faces), face, box, luma)

    def _framing(self, face: FaceObservation, n: int, w: int, h: int) -> list[CheckResult]:
        cfg, out = self.config, []
        if C.MULTIPLE_FACES not in self.skip:
            out.append(_check(C.MULTIPLE_FACES, float(n), None, float(cfg.max_faces)))
        x0, y0, x1, y1 = face.bbox
        if C.FACE_TOO_CLOSE not in self.skip:
            out.append(_check(C.FACE_TOO_CLOSE, (x1 - x0) / w, None, cfg.max_face_width_frac))
        if C.FACE_TOO_SMALL not in self.skip:
            out.append(_check(C.FACE_TOO_SMALL, face.inter_eye_px, cfg.min_inter_eye_px, None))
        if C.FACE_OFF_CENTER not in self.skip:
            cx, cy = face.center
            offset = max(abs(cx / w - 0.5), abs(cy / h - 0.5))
            # A face cut by the frame edge is off centre whatever its centre says (OFIQ's crop measures).
            margin_x = (x1 - x0) * 0.05
            if x0 < -margin_x or y0 < 0 or x1 > w + margin_x or y1 > h:
                offset = max(offset, cfg.max_center_offset + 0.01)
            out.append(_check(C.FACE_OFF_CENTER, offset, None, cfg.max_center_offset))
        return out

    def _pose(self, face: FaceObservation) -> list[CheckResult]:
        cfg, out = self.config, []
        for code, angle, limit in ((C.POSE_YAW, face.yaw, cfg.max_yaw_deg), (C.POSE_PITCH, face.pitch, cfg.max_pitch_deg),
                                   (C.POSE_ROLL, face.roll, cfg.max_roll_deg)):
            if code not in self.skip:
                out.append(_check(code, angle, -limit, limit))
        return out

    def _light(self, crop: measures.FaceCrop, luma: float, under: float, over: float) -> list[CheckResult]:
        cfg, out = self.config, []
        if C.TOO_DARK not in self.skip:
            res = _check(C.TOO_DARK, luma, cfg.min_face_luma, None)
            res.passed = res.passed and under <= cfg.max_underexposed_share
            out.append(res)
        if C.TOO_BRIGHT not in self.skip:
            res = _check(C.TOO_BRIGHT, luma, None, cfg.max_face_luma)
            res.passed = res.passed and over <= cfg.max_overexposed_share
            out.append(res)
        if C.UNEVEN_LIGHT not in self.skip:
            out.append(_check(C.UNEVEN_LIGHT, measures.light_balance(crop), cfg.min_light_balance, None))
        return out

    def _no_face(self, image_rgb: np.ndarray, timestamp_s: float | None) -> Verdict:
        """No face: say why when we can tell (too dark, too close) instead of a bare NO_FACE."""
        results = [CheckResult(C.NO_FACE, 0.0, (1.0, None), False)]
        luma = measures.centre_luma(image_rgb)
        if C.TOO_DARK not in self.skip and luma < self.config.dark_frame_luma:
            results.append(CheckResult(C.TOO_DARK, luma, (self.config.dark_frame_luma, None), False))
        elif C.BLURRY not in self.skip and (sharp := measures.frame_sharpness(image_rgb)) < self.config.min_sharpness:
            # A face blurred beyond recognition is not found at all: say "hold still", not "show your face".
            results.append(CheckResult(C.BLURRY, sharp, (self.config.min_sharpness, None), False))
        elif C.FACE_TOO_CLOSE not in self.skip and self._probe_due(timestamp_s):
            width = self._probe_close(image_rgb)
            if width is not None:
                results.append(_check(C.FACE_TOO_CLOSE, width, None, self.config.max_face_width_frac))
        return self._verdict(results, 0, None, None, None)

    def _probe_due(self, timestamp_s: float | None) -> bool:
        if not self.config.close_probe:
            return False
        if timestamp_s is None:
            return True
        if self._last_probe_t is not None and 0 <= timestamp_s - self._last_probe_t < PROBE_INTERVAL_S:
            return False
        self._last_probe_t = timestamp_s
        return True

    def _probe_close(self, image_rgb: np.ndarray) -> float | None:
        """Look for a face on the frame shrunk into a padded canvas; its width as a share of the real frame."""
        h, w = image_rgb.shape[:2]
        if self._probe is None:
            self._probe = FaceLandmarker(mode="image", max_faces=1,
                                         min_detection_confidence=self.config.min_detection_confidence)
        sw, sh = max(int(w * PROBE_SHRINK), 1), max(int(h * PROBE_SHRINK), 1)
        small = cv2.resize(image_rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        fill = [int(v) for v in small.reshape(-1, small.shape[-1]).mean(axis=0)] if small.ndim == 3 else int(small.mean())
        canvas = cv2.copyMakeBorder(small, (h - sh) // 2, h - sh - (h - sh) // 2, (w - sw) // 2,
                                    w - sw - (w - sw) // 2, cv2.BORDER_CONSTANT, value=fill)
        faces = self._probe.detect(canvas)
        if not faces:
            return None
        x0, _, x1, _ = faces[0].bbox
        return (x1 - x0) / (w * PROBE_SHRINK)

    def _verdict(self, results: list[CheckResult], n: int, face: FaceObservation | None,
                 box: tuple[int, int, int, int] | None, luma: float | None) -> Verdict:
        failures = C.sort_codes([r.code for r in results if not r.passed])
        instruction = failures[0] if failures else None
        if instruction == C.NO_FACE and len(failures) > 1:
            instruction = failures[1]  # the precise reason (too dark, too close) is the useful instruction
        margins = [_margin(abs(r.value) if r.limits[0] is not None and r.limits[1] is not None and r.limits[0] < 0
                           else r.value, *((0.0, r.limits[1]) if r.limits[0] is not None and r.limits[0] < 0 else r.limits))
                   for r in results if r.value is not None and r.code not in (C.NO_FACE, C.MULTIPLE_FACES)]
        m = float(np.mean(margins)) if margins else 0.0
        passed = not failures
        if passed:
            quality = 0.5 + 0.5 * m
        else:
            ok_share = sum(r.passed for r in results) / max(len(results), 1)
            quality = 0.5 * m * ok_share if face is not None else 0.0
        return Verdict(passed=passed, failures=failures, instruction=instruction, checks=results, quality=quality,
                       n_faces=n, face=face, face_box=box, face_luma=luma)
