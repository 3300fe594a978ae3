"""The PAD threshold: from the config, else the shipped calibration (calibration.json) of the model pair.

``terminal calibrate pad DIR`` scores the live items of an evaluation folder and picks the highest threshold
that keeps the live rejection rate (BPCER) at or under the target, then writes it here or to a file.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal.errors import ConfigError

if TYPE_CHECKING:
    from terminal.config.schema import Config

log = logging.getLogger(__name__)

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
# Used only when no calibration exists for the configured models: upstream's argmax rule is about 0.5.
FALLBACK = 0.5


def load_calibrations(path: Path = CALIBRATION_PATH) -> dict[str, Any]:
    """The shipped PAD calibrations keyed by backend name ({} when the file is missing)."""
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read the PAD calibration: {err}") from None


def resolve_pad_threshold(cfg: Config, backend_name: str) -> tuple[float, str]:
    """(threshold, where it came from): ``[pad] threshold``, the shipped calibration, or the fallback."""
    if cfg.pad.threshold is not None:
        return float(cfg.pad.threshold), "config"
    entry = load_calibrations().get(backend_name)
    if entry is not None:
        return float(entry["threshold"]), f"shipped calibration ({CALIBRATION_PATH.name})"
    log.warning("PAD: no calibration for %s, using %.2f: run `terminal calibrate pad`", backend_name, FALLBACK)
    return FALLBACK, "fallback"


def threshold_for_bpcer(live_scores: list[float], target_bpcer: float, margin: float = 0.0) -> float:
    """The highest threshold at which at most ``target_bpcer`` of ``live_scores`` fall below it (minus ``margin``).

    Live items scoring below the threshold are rejected (BPCER); allowing k = floor(target * n) of them puts
    the threshold at the (k+1)-th lowest live score.
    """
    if not live_scores:
        raise ConfigError("no live item scored: cannot calibrate the PAD threshold")
    ranked = sorted(live_scores)
    k = min(math.floor(target_bpcer * len(ranked) + 1e-9), len(ranked) - 1)
    return max(0.0, ranked[k] - margin)


def write_calibration(backend_name: str, entry: dict[str, Any], path: Path = CALIBRATION_PATH) -> None:
    """Store ``entry`` (threshold, target, counts, where measured) for ``backend_name`` in ``path``."""
    data = load_calibrations(path) if path.exists() else {}
    data[backend_name] = entry
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
