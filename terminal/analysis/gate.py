"""The quality gate: run the landmarker, measure every check on the primary face, and return a Verdict."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal, cast

import cv2
import numpy as np

from terminal.analysis import checks, measures
from terminal.analysis import codes as C
from terminal.analysis.detector import FaceDetector, containment, distinct
from terminal.analysis.faceregion import face_crop
from terminal.analysis.landmarker import FaceLandmarker, FaceObservation
from terminal.analysis.secondlook import second_look, third_look
from terminal.analysis.settings import QualityConfig
from terminal.analysis.steadiness import SteadinessTracker
from terminal.analysis.verdict import CheckResult, Verdict

if TYPE_CHECKING:
    from terminal.analysis.modelcache import ModelCache
    from terminal.config.schema import Config

log = logging.getLogger(__name__)

# How much smaller the close-probe makes the frame: a face that fills it then covers about half of it.
PROBE_SHRINK = 0.5
# On still images the landmarker sometimes meshes part of a face (an eye region of a small ORL image) as a second
# face inside the first. Such a "face" lies almost wholly inside the larger box and is much smaller: under a
# third of its eye distance (ORL: 0.26; another person's face held up inside the face box, hostile review:
# 0.40-0.45, still counted). A small photo held up the same way would be dropped too, so in streams (the
# terminal's sessions) every face counts.
NESTED_FACE = 0.8
NESTED_EYE_SHARE = 0.33


def count_faces(faces: list[FaceObservation], still: bool = True) -> int:
    """Faces in ``faces``; on a ``still`` image, not those nested in a larger one (see NESTED_FACE)."""
    if not still:
        return len(faces)
    kept: list[FaceObservation] = []
    for face in sorted(faces, key=lambda f: -(f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1])):
        if all(
            containment(face.bbox, k.bbox) < NESTED_FACE or face.inter_eye_px >= NESTED_EYE_SHARE * k.inter_eye_px
            for k in kept
        ):
            kept.append(face)
    return len(kept)


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


class QualityGate:
    """Per-frame quality verdicts; keeps stream state (for UNSTEADY) when frames come with timestamps.

    ``skip`` turns checks off by reason code (e.g. the framing checks on small research images); NO_FACE
    cannot be skipped because nothing else can be measured without a face.
    """

    def __init__(
        self, config: QualityConfig, landmarker: FaceLandmarker | None = None, skip: Iterable[str] = ()
    ) -> None:
        self.config = config
        self._own_landmarker = landmarker is None
        self.landmarker = landmarker or FaceLandmarker(
            mode="image",
            max_faces=max(3, config.max_faces + 1),
            min_detection_confidence=config.min_detection_confidence,
        )
        self.skip = frozenset(skip) - {C.NO_FACE}
        unknown = self.skip - C.GATE_CODES
        if unknown:
            raise ValueError(f"unknown reason code(s) to skip: {', '.join(sorted(unknown))}")
        self._steady = SteadinessTracker(config.steady_window_s)
        self._probe: FaceLandmarker | None = None
        self._last_probe_t: float | None = None
        self._detector: FaceDetector | None = None
        self._models_dir: Path | None = None
        self._last_count_t: float | None = None
        self._tiled_count = 0  # faces the tiled detector counted at its last run (kept between runs in streams)
        self._cache: ModelCache | None = None

    @classmethod
    def from_config(
        cls, cfg: Config, mode: Literal["image", "video"] = "video", skip: Iterable[str] = ()
    ) -> QualityGate:
        """A gate with its own landmarker built from the ``[models]`` and ``[quality]`` sections."""
        from terminal.modelstore import model_path

        q = cfg.quality
        lm = FaceLandmarker(
            model_path(cfg.models.landmarker, cfg.models.dir),
            mode=mode,
            max_faces=max(3, q.max_faces + 1),
            min_detection_confidence=q.min_detection_confidence,
        )
        gate = cls(q, lm, skip=skip)
        gate._own_landmarker = True
        gate._models_dir = cfg.models.dir
        return gate

    def use_model_cache(self, cache: ModelCache) -> None:
        """Answer this gate's still-image model calls from ``cache`` (dataset evaluations; see modelcache)."""
        from terminal.analysis.modelcache import CachedLandmarker

        self._cache = cache
        self.landmarker = cast(FaceLandmarker, CachedLandmarker(self.landmarker, cache))

    def reset(self) -> None:
        """Clear the stream state (steadiness window, probe timer): call between members."""
        self._steady.reset()
        self._last_probe_t = None
        self._last_count_t = None
        self._tiled_count = 0

    def close(self) -> None:
        """Release the landmarkers this gate created."""
        if self._own_landmarker:
            self.landmarker.close()
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._detector is not None:
            self._detector.close()
            self._detector = None

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
        n = count_faces(faces, still=timestamp_s is None)
        if n <= self.config.max_faces:
            n = max(n, self._tiled_faces(image_rgb, timestamp_s))
        return self._analyze_faces(image_rgb, faces, n, timestamp_s)

    def _analyze_faces(
        self, image_rgb: np.ndarray, faces: list[FaceObservation], n: int, timestamp_s: float | None
    ) -> Verdict:
        """Every check on the largest of ``faces``; ``n`` is the face count for MULTIPLE_FACES."""
        face = faces[0]
        results = [CheckResult(C.NO_FACE, float(n), (1.0, None), True)]
        results += checks.framing(self.config, self.skip, face, n, image_rgb.shape[1], image_rgb.shape[0])
        results += checks.pose(self.config, self.skip, face)
        crop = face_crop(image_rgb, face)
        if C.EYES_CLOSED not in self.skip:
            results.append(
                checks.check(C.EYES_CLOSED, min(measures.eye_openness(face)), self.config.min_eye_openness, None)
            )
        # Washed out = the forehead is clipped (a mask never covers it; a white mask raises the face's mean
        # luma, so the whole face's brightness cannot tell a cover from over-exposure).
        washed_out = measures.clipped_share(crop, "forehead") > self.config.max_overexposed_share
        results += checks.glasses(self.config, self.skip, crop, washed_out)
        luma, under, over = measures.luminance_stats(crop)
        if C.OCCLUDED_FACE not in self.skip:
            results.append(
                checks.check(
                    C.OCCLUDED_FACE,
                    measures.occlusion_score(crop, use_texture=not washed_out),
                    None,
                    self.config.max_occlusion_score,
                )
            )
        results += checks.light(self.config, self.skip, crop, luma, under, over)
        if C.BLURRY not in self.skip:
            results.append(checks.check(C.BLURRY, measures.sharpness(crop), self.config.min_sharpness, None))
        if timestamp_s is not None and C.UNSTEADY not in self.skip:
            speed = self._steady.update(timestamp_s, face)
            if speed is not None:
                results.append(checks.check(C.UNSTEADY, speed, None, self.config.max_jitter))
        checks.advisory(self.config, results)
        h, w = image_rgb.shape[:2]
        x0, y0, x1, y1 = face.bbox
        box = (max(int(x0), 0), max(int(y0), 0), min(round(x1), w), min(round(y1), h))
        return self._verdict(results, n, face, box, luma)

    def _no_face(self, image_rgb: np.ndarray, timestamp_s: float | None) -> Verdict:
        """No face: say why when we can tell (too dark, too close) instead of a bare NO_FACE."""
        results = [CheckResult(C.NO_FACE, 0.0, (1.0, None), False)]
        luma = measures.centre_luma(image_rgb)
        if C.TOO_DARK not in self.skip and luma < self.config.dark_frame_luma:
            results.append(CheckResult(C.TOO_DARK, luma, (self.config.dark_frame_luma, None), False))
        elif (
            C.BLURRY not in self.skip and (sharp := measures.frame_sharpness(image_rgb)) < measures.FRAME_MIN_SHARPNESS
        ):
            # A face blurred beyond recognition is not found at all: BLURRY is recorded (the tally shows it),
            # but the instruction stays NO_FACE (see _verdict).
            results.append(CheckResult(C.BLURRY, sharp, (measures.FRAME_MIN_SHARPNESS, None), False))
        elif self._probe_due(timestamp_s):
            if self.config.second_look:
                look = second_look(
                    self._face_detector(), self._probe_landmarker(), image_rgb, self.config.min_second_look_score
                )
                if look.faces:
                    # The landmarker confirmed the detection on a crop: judge that face like any other (its
                    # steadiness is not tracked: a face seen only now and then has no motion history).
                    n = max(
                        count_faces(look.faces, still=timestamp_s is None),
                        len(distinct(look.detections, self.config.min_profile_score)),
                        self._tiled_faces(image_rgb, timestamp_s),
                    )
                    return self._analyze_faces(image_rgb, look.faces, n, None)
                faces = third_look(
                    self._face_detector(),
                    self._probe_landmarker(),
                    image_rgb,
                    self.config.min_second_look_score,
                    self.config.min_profile_score,
                )
                if faces:
                    return self._analyze_faces(
                        image_rgb,
                        faces,
                        max(count_faces(faces, still=timestamp_s is None), self._tiled_faces(image_rgb, timestamp_s)),
                        None,
                    )
                results += checks.unmeshed(
                    self.config, self.skip, look.detections, self._tiled_faces(image_rgb, timestamp_s)
                )
            if C.FACE_TOO_CLOSE not in self.skip and self.config.close_probe and len(results) == 1:
                width = self._probe_close(image_rgb)
                if width is not None:
                    results.append(checks.check(C.FACE_TOO_CLOSE, width, None, self.config.max_face_width_frac))
        return self._verdict(results, 0, None, None, None)

    def _probe_due(self, timestamp_s: float | None) -> bool:
        """Whether a no-face second look / close probe may run now (at most one per interval in streams)."""
        if not (self.config.close_probe or self.config.second_look):
            return False
        if timestamp_s is None:
            return True
        last = self._last_probe_t
        if last is not None and 0 <= timestamp_s - last < self.config.second_look_interval_s:
            return False
        self._last_probe_t = timestamp_s
        return True

    def _tiled_faces(self, image_rgb: np.ndarray, timestamp_s: float | None) -> int:
        """The tiled face count when it is enabled and MULTIPLE_FACES is checked, else 0."""
        if not self.config.count_faces_tiled or C.MULTIPLE_FACES in self.skip:
            return 0
        return self._count_tiled(image_rgb, timestamp_s)

    def _count_tiled(self, image_rgb: np.ndarray, timestamp_s: float | None) -> int:
        """Faces the detector counts on the frame and 2x2 tiles; in streams re-counted once per interval."""
        last = self._last_count_t
        if timestamp_s is None or last is None or not 0 <= timestamp_s - last < self.config.second_look_interval_s:
            self._last_count_t = timestamp_s
            dets = self._face_detector().detect_tiled(image_rgb)
            self._tiled_count = len(distinct(dets, self.config.min_tiled_face_score))
        return self._tiled_count

    def _face_detector(self) -> FaceDetector:
        if self._detector is None:
            from terminal.modelstore import model_path

            self._detector = FaceDetector(
                model_path("face_detector", self._models_dir), min_score=min(self.config.min_second_look_score, 0.9)
            )
            if self._cache is not None:
                from terminal.analysis.modelcache import CachedDetector

                self._detector = cast(FaceDetector, CachedDetector(self._detector, self._cache))
        return self._detector

    def _probe_landmarker(self) -> FaceLandmarker:
        if self._probe is None:
            self._probe = FaceLandmarker(
                mode="image", max_faces=1, min_detection_confidence=self.config.min_detection_confidence
            )
            if self._cache is not None:
                from terminal.analysis.modelcache import CachedLandmarker

                self._probe = cast(FaceLandmarker, CachedLandmarker(self._probe, self._cache))
        return self._probe

    def _probe_close(self, image_rgb: np.ndarray) -> float | None:
        """Look for a face on the frame shrunk into a padded canvas; its width as a share of the real frame."""
        h, w = image_rgb.shape[:2]
        sw, sh = max(int(w * PROBE_SHRINK), 1), max(int(h * PROBE_SHRINK), 1)
        small = cv2.resize(image_rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        fill = (
            [int(v) for v in small.reshape(-1, small.shape[-1]).mean(axis=0)] if small.ndim == 3 else int(small.mean())
        )
        canvas = cv2.copyMakeBorder(
            small,
            (h - sh) // 2,
            h - sh - (h - sh) // 2,
            (w - sw) // 2,
            w - sw - (w - sw) // 2,
            cv2.BORDER_CONSTANT,
            value=fill,
        )
        faces = self._probe_landmarker().detect(canvas)
        if not faces:
            return None
        x0, _, x1, _ = faces[0].bbox
        return (x1 - x0) / (w * PROBE_SHRINK)

    def _verdict(
        self,
        results: list[CheckResult],
        n: int,
        face: FaceObservation | None,
        box: tuple[int, int, int, int] | None,
        luma: float | None,
    ) -> Verdict:
        failures = C.sort_codes([r.code for r in results if not r.passed and r.blocking])
        advisories = C.sort_codes([r.code for r in results if not r.passed and not r.blocking])
        instruction = failures[0] if failures else None
        if instruction == C.NO_FACE and len(failures) > 1 and failures[1] != C.BLURRY:
            # The precise reason (too dark, too close) is the useful instruction. Not BLURRY: an empty booth
            # (a plain wall) is just as unsharp as a blurred face, and "hold still" said to nobody is wrong.
            instruction = failures[1]
        margins = [
            _margin(
                abs(r.value) if r.limits[0] is not None and r.limits[1] is not None and r.limits[0] < 0 else r.value,
                *((0.0, r.limits[1]) if r.limits[0] is not None and r.limits[0] < 0 else r.limits),
            )
            for r in results
            if r.value is not None and r.code not in (C.NO_FACE, C.MULTIPLE_FACES)
        ]
        m = float(np.mean(margins)) if margins else 0.0
        passed = not failures
        if passed and not advisories:
            quality = 0.5 + 0.5 * m
        elif passed:
            # Below every clean frame (>= 0.5): the best-frame choice takes a frame with an advisory code (eyes
            # half shut) only when no clean frame came.
            quality = 0.5 * (0.5 + 0.5 * m)
        else:
            ok_share = sum(r.passed for r in results) / max(len(results), 1)
            quality = 0.5 * m * ok_share if face is not None else 0.0
        return Verdict(
            passed=passed,
            failures=failures,
            instruction=instruction,
            checks=results,
            quality=quality,
            n_faces=n,
            face=face,
            face_box=box,
            face_luma=luma,
            advisories=advisories,
        )
