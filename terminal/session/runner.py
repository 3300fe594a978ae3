"""Run one session over a frame source until it is done: the loop shared by the CLI and the daemon."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from terminal.camera.base import FrameSource
    from terminal.light.controller import LightController
    from terminal.session.machine import VerificationSession

log = logging.getLogger(__name__)


def run_session(
    source: FrameSource,
    session: VerificationSession,
    light: LightController | None = None,
    max_frames: int | None = None,
) -> dict[str, Any]:
    """Feed frames from ``source`` to ``session`` until it is done; return its result.

    A finite source that ends first (or ``max_frames`` reached) ends the session as ``failed`` with reason
    code ``SOURCE_ENDED``. The ring light is turned off on every way out, exceptions included.
    """
    light = light if light is not None else session.light
    n = 0
    try:
        source.start()
        while not session.done:
            frame = source.read()
            if frame is None or (max_frames is not None and n >= max_frames):
                session.end_of_source()
                break
            session.feed(frame)
            n += 1
    except BaseException:
        if not session.done:
            session.cancel("interrupted")
        raise
    finally:
        if light is not None:
            light.off()
    assert session.result is not None
    log.debug("session done after %d frames: %s", n, session.result["decision"])
    return session.result
