"""Config section ``[quality]``: the quality gate's thresholds (see docs/quality.md for their sources)."""

from __future__ import annotations

from pydantic import Field, model_validator

from terminal.analysis import codes as C
from terminal.config.base import Section

# Codes that may be made advisory. Not: presence and framing (nothing else is judged without them; the liveness
# binding relies on one face), glasses and occlusion (a covered face is how a mask attack looks), pose (its
# capture_max_*_deg limits say where it blocks).
ADVISABLE = frozenset({C.EYES_CLOSED, C.BLURRY, C.TOO_BRIGHT, C.TOO_DARK, C.UNEVEN_LIGHT})
# Capture limits when unset: the wider of these and the reporting limit (so an older config that widened a
# reporting limit still starts).
CAPTURE_DEFAULTS = {"yaw": 25.0, "pitch": 20.0, "roll": 12.0, "light_balance": 0.45}


class QualityConfig(Section):
    """Thresholds of the quality gate; defaults suit a terminal camera at about 50 cm (640x480)."""

    # Presence and framing
    max_faces: int = Field(1, ge=1, le=10, description="more faces than this fails MULTIPLE_FACES")
    min_detection_confidence: float = Field(0.5, gt=0, lt=1, description="MediaPipe face detection confidence")
    min_inter_eye_px: float = Field(40.0, ge=4, le=1000, description="FACE_TOO_SMALL below this eye distance (px)")
    max_face_width_frac: float = Field(
        0.6, gt=0.1, le=1.0, description="FACE_TOO_CLOSE when the face box is wider than this share of the frame"
    )
    max_center_offset: float = Field(
        0.22,
        gt=0,
        le=0.5,
        description="FACE_OFF_CENTER when the face centre is further than this share of the frame from its centre",
    )
    close_probe: bool = Field(
        True, description="when no face is found, look again on a shrunk frame to tell FACE_TOO_CLOSE"
    )
    second_look: bool = Field(
        True,
        description="when the landmarker finds no face, run the BlazeFace detector and mesh what it finds on a crop (profiles, raised chins, masks)",
    )
    second_look_interval_s: float = Field(
        1.0,
        ge=0,
        le=10,
        description="in streams, at most one second look / secondary face count per this much frame time (results are kept in between)",
    )
    min_second_look_score: float = Field(
        0.35,
        gt=0,
        lt=1,
        description="detector score from which a detection is meshed on a crop (the landmarker must then confirm it)",
    )
    min_profile_score: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="unmeshed detection score from which a face counts as present (POSE_YAW, MULTIPLE_FACES without landmarks)",
    )
    min_profile_yaw_ratio: float = Field(
        0.25,
        gt=0,
        le=2,
        description="POSE_YAW for an unmeshed face when the nose tip is this many eye distances to the side of the eye midpoint (frontal <= 0.15, 30 deg ~ 0.3)",
    )
    count_faces_tiled: bool = Field(
        True,
        description="also count faces with the detector on the frame and 2x2 tiles (small background faces) for MULTIPLE_FACES",
    )
    min_tiled_face_score: float = Field(
        0.7, gt=0, lt=1, description="detector score from which a tiled detection counts as a face"
    )
    # Pose (ISO/IEC 19794-5 / ICAO allow +-5 yaw/pitch and +-8 roll for passports; verification tolerates more)
    max_yaw_deg: float = Field(
        20.0,
        gt=0,
        le=90,
        description="POSE_YAW beyond this (15 before 2026-12: 15-20 deg costs matching nothing, evaluate edc)",
    )
    max_pitch_deg: float = Field(15.0, gt=0, le=90)
    max_roll_deg: float = Field(10.0, gt=0, le=90)
    # What blocks a capture (evaluate edc/match): beyond the limits above a check is reported and counted in
    # the labels; it blocks the capture only beyond these wider limits, where it costs matching.
    advisory: list[str] = Field(
        default_factory=lambda: [C.EYES_CLOSED],
        description="codes reported but never blocking a capture (allowed: EYES_CLOSED, BLURRY, TOO_BRIGHT, "
        "TOO_DARK, UNEVEN_LIGHT; docs/quality.md)",
    )
    capture_max_yaw_deg: float | None = Field(
        None, gt=0, le=90, description="POSE_YAW blocks a capture only beyond this (unset: max(max_yaw_deg, 25))"
    )
    capture_max_pitch_deg: float | None = Field(
        None, gt=0, le=90, description="POSE_PITCH blocks a capture only beyond this (unset: max(max_pitch_deg, 20))"
    )
    capture_max_roll_deg: float | None = Field(
        None, gt=0, le=90, description="POSE_ROLL blocks a capture only beyond this (unset: max(max_roll_deg, 12))"
    )
    # Eyes
    min_eye_openness: float = Field(
        0.18, gt=0, lt=1, description="EYES_CLOSED when either eye's lid gap / eye width is below this"
    )
    # Occlusion
    max_lens_darkness: float = Field(
        0.7,
        gt=0,
        le=1,
        description="DARK_GLASSES when the eye band is this much darker than the cheeks (sunglasses 0.74-0.95, bare eyes and clear glasses <= 0.58)",
    )
    max_lens_glare: float = Field(
        0.1,
        gt=0,
        le=1,
        description="GLARE_ON_GLASSES when this share of the eye band is brighter than any of the cheeks (catch-lights <= 0.06)",
    )
    max_frame_depth: float = Field(
        0.8,
        gt=0,
        description="OCCLUDED_GLASSES (heavy frames across the eyes) when both the bridge bar and the lower rim are lines this deep (clear glasses <= 0.49, heavy frames with the eyes visible <= 0.72)",
    )
    max_occlusion_score: float = Field(
        1.0,
        gt=0,
        description="OCCLUDED_FACE above this: 1.0 = lower-face vs forehead chroma distance 21.6 (colour frames), or mouth-region contrast down to 0.04",
    )
    # Light (OFIQ-style face-region luminance on 0..255 luma)
    min_face_luma: float = Field(45.0, ge=0, le=255, description="TOO_DARK below this mean face luma")
    max_face_luma: float = Field(210.0, ge=0, le=255, description="TOO_BRIGHT above this mean face luma")
    max_underexposed_share: float = Field(
        0.6, gt=0, le=1, description="TOO_DARK when more of the face is below luma 30"
    )
    max_overexposed_share: float = Field(
        0.4, gt=0, le=1, description="TOO_BRIGHT when more of the face is above luma 250"
    )
    min_light_balance: float = Field(
        0.6, gt=0, le=1, description="UNEVEN_LIGHT when darker face half / brighter face half is below this"
    )
    capture_min_light_balance: float | None = Field(
        None,
        gt=0,
        le=1,
        description="UNEVEN_LIGHT blocks a capture only below this (unset: min(min_light_balance, 0.45))",
    )
    dark_frame_luma: float = Field(
        35.0, ge=0, le=255, description="a frame with no face and mean luma below this is TOO_DARK"
    )
    # Sharpness and steadiness
    min_sharpness: float = Field(
        1.08,
        ge=0,
        description="BLURRY below this directional re-blur ratio (sigma 1) at the canonical face scale, never enlarged (sharp faces >= 1.11, motion-blurred <= 1.10, mostly <= 1.04)",
    )
    steady_window_s: float = Field(0.5, gt=0, le=5, description="UNSTEADY looks at landmark motion over this window")
    max_jitter: float = Field(
        1.5, gt=0, description="UNSTEADY above this landmark speed, in inter-eye distances per second"
    )

    def capture_limits(self) -> tuple[float, float, float, float]:
        """The effective (yaw, pitch, roll, light balance) capture limits: set values, else the defaults widened
        to the reporting limits."""
        d = CAPTURE_DEFAULTS
        return (
            self.capture_max_yaw_deg if self.capture_max_yaw_deg is not None else max(self.max_yaw_deg, d["yaw"]),
            self.capture_max_pitch_deg
            if self.capture_max_pitch_deg is not None
            else max(self.max_pitch_deg, d["pitch"]),
            self.capture_max_roll_deg if self.capture_max_roll_deg is not None else max(self.max_roll_deg, d["roll"]),
            self.capture_min_light_balance
            if self.capture_min_light_balance is not None
            else min(self.min_light_balance, d["light_balance"]),
        )

    @model_validator(mode="after")
    def _check_capture_limits(self) -> QualityConfig:
        unknown = sorted(set(self.advisory) - C.GATE_CODES)
        if unknown:
            raise ValueError(f"advisory: unknown reason code(s) {', '.join(unknown)}")
        barred = sorted(set(self.advisory) - ADVISABLE)
        if barred:
            raise ValueError(
                f"advisory: {', '.join(barred)} always blocks a capture (allowed: {', '.join(sorted(ADVISABLE))})"
            )
        if len(set(self.advisory)) != len(self.advisory):
            raise ValueError("advisory: a code is listed twice")
        for key, guide, narrower in (
            ("capture_max_yaw_deg", self.max_yaw_deg, lambda v: v < self.max_yaw_deg),
            ("capture_max_pitch_deg", self.max_pitch_deg, lambda v: v < self.max_pitch_deg),
            ("capture_max_roll_deg", self.max_roll_deg, lambda v: v < self.max_roll_deg),
            ("capture_min_light_balance", self.min_light_balance, lambda v: v > self.min_light_balance),
        ):
            value = getattr(self, key)
            if value is not None and narrower(value):
                raise ValueError(f"{key} ({value}) must be at least as wide as its reporting limit ({guide})")
        return self
