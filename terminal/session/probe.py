"""The matching step: embed the kept best frames, check they are the face that did the challenge, compare them
with the member's reference. Runs once per session, after capture (never per frame)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from terminal.analysis import codes as C
from terminal.errors import TerminalError

if TYPE_CHECKING:
    from terminal.matching.decision import Matcher, MatchResult
    from terminal.matching.template import Template
    from terminal.session.binding import LiveFace
    from terminal.session.capture import Candidate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ending:
    """How the matching step ends the session: a decision to finish with, or a ``refusal`` (liveness failed)."""

    decision: str = "failed"
    reason_code: str | None = None
    reason: str | None = None
    shown: str | None = C.NO_MATCH
    match: MatchResult | None = None
    embedding: np.ndarray | None = None
    refusal: str | None = None  # the challenge face is not the captured face


def match_best(
    matcher: Matcher,
    candidates: Iterable[Candidate],
    reference: Template,
    live_face: LiveFace | None,
    include_embedding: bool,
) -> Ending:
    """Embed ``candidates``, check the identity against the challenge face (``live_face``, None: no liveness) and
    compare with ``reference``; a frame that cannot be aligned is skipped, never sinking the others."""
    probes = []
    for cand in candidates:
        try:
            probes.append(matcher.embed_face(cand.image, cand.face))
        except TerminalError as err:
            log.warning("session: a best frame could not be embedded: %s", err)
    if not probes:
        return Ending(reason_code="NO_USABLE_FRAME", reason="no captured frame could be aligned")
    probe = np.stack(probes)
    if live_face is not None and not live_face.same_identity(matcher, probe):
        return Ending(refusal="the face that did the challenge is not the captured face")
    try:
        res = matcher.compare(probe, reference)
    except TerminalError as err:
        return Ending(reason_code="BAD_REFERENCE", reason=str(err))
    embedding = probe.mean(axis=0) if include_embedding else None
    shown = C.MATCH if res.decision == "match" else C.NO_MATCH
    return Ending(res.decision, shown=shown, match=res, embedding=embedding)
