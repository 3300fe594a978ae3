"""Optional face boxes from the quality gate for the light tools (simulate, bench); centre weighting without it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from terminal.errors import TerminalError

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
FaceFinder = Callable[[np.ndarray], Box | None]


def gate_face_finder(cfg: Config) -> tuple[FaceFinder | None, Callable[[], None]]:
    """A function image -> face box using terminal.analysis' QualityGate, and its closer; (None, noop) if absent.

    The controller itself never imports the analysis package: only these tools do, and only if it loads.
    """
    try:
        from terminal.analysis.codes import FRAMING_CODES
        from terminal.analysis.gate import QualityGate

        gate = QualityGate.from_config(cfg, mode="image", skip=FRAMING_CODES)
    except (ImportError, TerminalError, RuntimeError, ValueError) as err:
        log.info("light: quality gate unavailable (%s); measuring centre-weighted frame luma", err)
        return None, lambda: None

    def find(image: np.ndarray) -> Box | None:
        box = gate.analyze(image).face_box
        return tuple(int(v) for v in box) if box else None  # type: ignore[return-value]

    return find, gate.close
