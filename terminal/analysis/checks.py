"""The gate's per-face checks: measurements on one face turned into pass/fail CheckResults against the limits.

Pure functions of the ``[quality]`` limits and the set of skipped reason codes; the QualityGate (gate.py) runs
the models, keeps the stream state and assembles the Verdict from these results.
"""

from __future__ import annotations

from collections.abc import Set

from terminal.analysis import codes as C
from terminal.analysis import measures
from terminal.analysis.detector import Detection, distinct
from terminal.analysis.glasses import glasses_cues
from terminal.analysis.landmarker import FaceObservation
from terminal.analysis.settings import QualityConfig
from terminal.analysis.verdict import CheckResult


def check(code: str, value: float, lo: float | None, hi: float | None) -> CheckResult:
    """``value`` against its limits (``None`` = no limit on that side)."""
    passed = (lo is None or value >= lo) and (hi is None or value <= hi)
    return CheckResult(code=code, value=float(value), limits=(lo, hi), passed=bool(passed))


def capture_limited(res: CheckResult, lo: float | None, hi: float | None) -> CheckResult:
    """A failed ``res`` becomes advisory when its value is still within the wider capture limits."""
    if not res.passed and res.value is not None:
        v = res.value
        res.blocking = not ((lo is None or v >= lo) and (hi is None or v <= hi))
    return res


def advisory(cfg: QualityConfig, results: list[CheckResult]) -> list[CheckResult]:
    """Mark the failures of codes listed in ``[quality] advisory`` as not blocking."""
    codes = set(cfg.advisory)
    for res in results:
        if not res.passed and res.code in codes:
            res.blocking = False
    return results


def framing(cfg: QualityConfig, skip: Set[str], face: FaceObservation, n: int, w: int, h: int) -> list[CheckResult]:
    """Face count, size and position in a ``w`` x ``h`` frame."""
    out = []
    if C.MULTIPLE_FACES not in skip:
        out.append(check(C.MULTIPLE_FACES, float(n), None, float(cfg.max_faces)))
    x0, y0, x1, y1 = face.bbox
    if C.FACE_TOO_CLOSE not in skip:
        out.append(check(C.FACE_TOO_CLOSE, (x1 - x0) / w, None, cfg.max_face_width_frac))
    if C.FACE_TOO_SMALL not in skip:
        out.append(check(C.FACE_TOO_SMALL, face.inter_eye_px, cfg.min_inter_eye_px, None))
    if C.FACE_OFF_CENTER not in skip:
        cx, cy = face.center
        offset = max(abs(cx / w - 0.5), abs(cy / h - 0.5))
        # A face cut by the frame edge is off centre whatever its centre says (OFIQ's crop measures).
        margin_x = (x1 - x0) * 0.05
        if x0 < -margin_x or y0 < 0 or x1 > w + margin_x or y1 > h:
            offset = max(offset, cfg.max_center_offset + 0.01)
        out.append(check(C.FACE_OFF_CENTER, offset, None, cfg.max_center_offset))
    return out


def pose(cfg: QualityConfig, skip: Set[str], face: FaceObservation) -> list[CheckResult]:
    """Yaw, pitch and roll within +-their limits (degrees)."""
    out = []
    yaw, pitch, roll, _ = cfg.capture_limits()
    for code, angle, limit, wider in (
        (C.POSE_YAW, face.yaw, cfg.max_yaw_deg, yaw),
        (C.POSE_PITCH, face.pitch, cfg.max_pitch_deg, pitch),
        (C.POSE_ROLL, face.roll, cfg.max_roll_deg, roll),
    ):
        if code not in skip:
            out.append(capture_limited(check(code, angle, -limit, limit), -wider, wider))
    return out


def glasses(cfg: QualityConfig, skip: Set[str], crop: measures.FaceCrop, washed_out: bool) -> list[CheckResult]:
    """Only glasses that hide the eyes fail (dark lenses, glare, heavy frames); clear glasses pass. Glare is
    not judged on a washed-out face (its eyes are clipped too: that is TOO_BRIGHT)."""
    if C.OCCLUDED_GLASSES in skip:
        return []
    cues = glasses_cues(crop)
    return [
        check(code, value, None, limit)
        for code, value, limit in (
            (C.DARK_GLASSES, cues.darkness, cfg.max_lens_darkness),
            (C.GLARE_ON_GLASSES, cues.glare, cfg.max_lens_glare),
            (C.OCCLUDED_GLASSES, cues.frame_depth, cfg.max_frame_depth),
        )
        if code not in skip and not (washed_out and code == C.GLARE_ON_GLASSES)
    ]


def light(
    cfg: QualityConfig, skip: Set[str], crop: measures.FaceCrop, luma: float, under: float, over: float
) -> list[CheckResult]:
    """Face brightness (mean luma and clipped shares) and the left/right light balance."""
    out = []
    if C.TOO_DARK not in skip:
        res = check(C.TOO_DARK, luma, cfg.min_face_luma, None)
        res.passed = res.passed and under <= cfg.max_underexposed_share
        out.append(res)
    if C.TOO_BRIGHT not in skip:
        res = check(C.TOO_BRIGHT, luma, None, cfg.max_face_luma)
        res.passed = res.passed and over <= cfg.max_overexposed_share
        out.append(res)
    if C.UNEVEN_LIGHT not in skip:
        res = check(C.UNEVEN_LIGHT, measures.light_balance(crop), cfg.min_light_balance, None)
        out.append(capture_limited(res, cfg.capture_limits()[3], None))
    return out


def unmeshed(cfg: QualityConfig, skip: Set[str], detections: list[Detection], tiled: int) -> list[CheckResult]:
    """Checks from detections the landmarker could not mesh: a turned head, or several faces."""
    out = []
    present = distinct(detections, cfg.min_profile_score)
    n = max(len(present), tiled)
    if C.MULTIPLE_FACES not in skip and n > cfg.max_faces:
        out.append(check(C.MULTIPLE_FACES, float(n), None, float(cfg.max_faces)))
    if present and C.POSE_YAW not in skip:
        # The value is the keypoint yaw ratio (eye distances), not degrees: there is no mesh to solve pose.
        ratio = present[0].yaw_ratio()
        res = check(C.POSE_YAW, ratio, -cfg.min_profile_yaw_ratio, cfg.min_profile_yaw_ratio)
        if not res.passed:
            out.append(res)
    return out
