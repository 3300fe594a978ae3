"""How a session's end state becomes its result: the liveness, light and guidance sections and the wire dict.

Called once, when the session finishes (never per frame); terminal/session/result.py validates the dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from terminal.session.result import result_wire
from terminal.session.tally import guidance_text
from terminal.stamps import new_result_id, utc_iso

if TYPE_CHECKING:
    import numpy as np

    from terminal.light.controller import LightState
    from terminal.matching.decision import MatchResult
    from terminal.session.machine import VerificationSession


def liveness_section(session: VerificationSession) -> dict[str, Any]:
    """The challenge's report (or why there was none) with the PAD, identity and track checks when enabled."""
    cfg = session.cfg
    if session.liveness is not None:
        liveness = session.liveness.to_dict()
    else:
        liveness = {
            "enabled": cfg.liveness,
            "outcome": "not_reached" if cfg.liveness else "skipped",
            "reason": None,
            "duration_s": None,
            "challenges": [],
            "passive": None,
        }
    liveness.update(session.live_face.to_dict() if cfg.liveness else {"pad": None, "identity": None, "track": None})
    return liveness


def light_section(state: LightState | None, converged: bool) -> dict[str, Any] | None:
    """The light's last state (null without a light controller)."""
    if state is None:
        return None
    return {
        "duty": round(float(state.duty), 4),
        "converged": converged,
        "brightness": round(float(state.brightness), 1),
        "faults": list(state.faults),
    }


def build_result(
    session: VerificationSession,
    decision: str,
    reason_code: str | None,
    reason: str | None,
    shown: str | None,
    match: MatchResult | None,
    embedding: np.ndarray | None,
    *,
    light_state: LightState | None,
    frames: int,
) -> dict[str, Any]:
    """The session's result as published (``result_wire``): decision, score, models, quality, timings, ..."""
    s = session
    emb = s.matcher.embedder
    lm = s.landmarker_model
    start = s.timings.start
    return result_wire(
        result_id=s.request.result_id or new_result_id(),
        request_id=s.request.request_id,
        terminal_id=s.terminal_id,
        member_ref=s.request.member_ref,
        started_at=s.started_at,
        finished_at=utc_iso(),
        decision=decision,
        reason_code=reason_code,
        reason=reason,
        message=guidance_text(shown, s.cfg.languages),
        score=None if match is None else round(float(match.score), 4),
        threshold=round(float(match.threshold if match else s.matcher.threshold), 4),
        models={
            "embedder": {"name": emb.name, "version": emb.version},
            "landmarker": None if lm is None else {"name": lm[0], "version": lm[1]},
            "fusion": s.matcher.fusion,
        },
        n_probe=0 if match is None else int(match.n_probe),
        quality=s.tally.to_dict(),
        n_reference=int(s.request.reference.count),
        reference_sha256=s.request.reference.sha256,
        guidance=[
            {"code": e.code, "t": round(e.t - (start if start is not None else e.t), 3)}
            for e in s.guidance.history[: s.cfg.keep_guidance]
        ],
        liveness=liveness_section(s),
        light=light_section(light_state, s.timings.light_converged is not None),
        timings=s.timings.to_dict(),
        frames=frames,
        embedding=None if embedding is None else [round(float(x), 6) for x in embedding],
    )
