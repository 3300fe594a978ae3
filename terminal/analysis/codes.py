"""Reason codes of the quality gate and the fixed priority in which they are reported."""

from __future__ import annotations

NO_FACE = "NO_FACE"
MULTIPLE_FACES = "MULTIPLE_FACES"
FACE_TOO_CLOSE = "FACE_TOO_CLOSE"
FACE_TOO_SMALL = "FACE_TOO_SMALL"
FACE_OFF_CENTER = "FACE_OFF_CENTER"
POSE_YAW = "POSE_YAW"
POSE_PITCH = "POSE_PITCH"
POSE_ROLL = "POSE_ROLL"
DARK_GLASSES = "DARK_GLASSES"
GLARE_ON_GLASSES = "GLARE_ON_GLASSES"
OCCLUDED_GLASSES = "OCCLUDED_GLASSES"
OCCLUDED_FACE = "OCCLUDED_FACE"
EYES_CLOSED = "EYES_CLOSED"
TOO_DARK = "TOO_DARK"
TOO_BRIGHT = "TOO_BRIGHT"
UNEVEN_LIGHT = "UNEVEN_LIGHT"
BLURRY = "BLURRY"
UNSTEADY = "UNSTEADY"

# The order in which failures are listed and the first one becomes the instruction. Presence and framing come
# first (nothing else can be judged without them), then what the member must change about the head (pose,
# glasses, occlusion, eyes), then light (the ring light fixes most of it by itself, so it is asked for last),
# then sharpness and steadiness (they usually resolve once the member holds the corrected position).
PRIORITY: tuple[str, ...] = (
    NO_FACE,
    MULTIPLE_FACES,
    FACE_TOO_CLOSE,
    FACE_TOO_SMALL,
    FACE_OFF_CENTER,
    POSE_YAW,
    POSE_PITCH,
    POSE_ROLL,
    DARK_GLASSES,
    GLARE_ON_GLASSES,
    OCCLUDED_GLASSES,
    OCCLUDED_FACE,
    EYES_CLOSED,
    TOO_DARK,
    TOO_BRIGHT,
    UNEVEN_LIGHT,
    BLURRY,
    UNSTEADY,
)

GATE_CODES = frozenset(PRIORITY)

# Glasses that hide the eyes: tinted/sun lenses, glare on the lenses, heavy frames across the eyes. Clear
# glasses are not a failure. Skipping OCCLUDED_GLASSES turns off all three (it was one check before).
GLASSES_CODES = frozenset({DARK_GLASSES, GLARE_ON_GLASSES, OCCLUDED_GLASSES})

# Checks that only make sense when the face is framed like at the terminal (skipped on small research images).
FRAMING_CODES = frozenset({FACE_TOO_SMALL, FACE_TOO_CLOSE, FACE_OFF_CENTER})

# Codes other packages show through the same guidance table (session, light, matching).
HOLD_STILL = "HOLD_STILL"
LIGHT_FAULT = "LIGHT_FAULT"
LIVENESS_BLINK = "LIVENESS_BLINK"
LIVENESS_BLINK_TWICE = "LIVENESS_BLINK_TWICE"
LIVENESS_TURN_LEFT = "LIVENESS_TURN_LEFT"
LIVENESS_TURN_RIGHT = "LIVENESS_TURN_RIGHT"
LIVENESS_FAILED = "LIVENESS_FAILED"
CAPTURED = "CAPTURED"
MATCH = "MATCH"
NO_MATCH = "NO_MATCH"

OTHER_CODES: tuple[str, ...] = (
    HOLD_STILL,
    LIGHT_FAULT,
    LIVENESS_BLINK,
    LIVENESS_BLINK_TWICE,
    LIVENESS_TURN_LEFT,
    LIVENESS_TURN_RIGHT,
    LIVENESS_FAILED,
    CAPTURED,
    MATCH,
    NO_MATCH,
)

# The liveness prompts: shown (and spoken) the moment they are due, never held back by the debouncer.
LIVENESS_PROMPTS = frozenset({LIVENESS_BLINK, LIVENESS_BLINK_TWICE, LIVENESS_TURN_LEFT, LIVENESS_TURN_RIGHT})


def sort_codes(codes: list[str] | set[str] | tuple[str, ...]) -> list[str]:
    """Order gate codes by PRIORITY (unknown codes go last, alphabetically)."""
    rank = {c: i for i, c in enumerate(PRIORITY)}
    return sorted(set(codes), key=lambda c: (rank.get(c, len(rank)), c))


def parse_codes(text: str | None) -> list[str]:
    """Parse ``"A,B"`` into gate codes; ValueError names an unknown code."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        code = part.strip().upper()
        if not code:
            continue
        if code not in GATE_CODES:
            raise ValueError(f"unknown reason code '{code}' (known: {', '.join(PRIORITY)})")
        out.append(code)
    return out
