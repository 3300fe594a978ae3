"""Decision thresholds: the shipped calibration per model, the configured override, and writing new ones."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from terminal.errors import ConfigError
from terminal.matching.metrics import PairScores, far_resolvable, round_up, tar_at, threshold_at_far

if TYPE_CHECKING:
    from terminal.config.schema import Config
    from terminal.matching.embedder import Embedder

log = logging.getLogger(__name__)

# Written by `terminal calibrate ... --write-shipped`; one entry per model name (see docs/matching.md).
SHIPPED_PATH = Path(__file__).resolve().parent / "calibrations.json"


def fmr_key(fmr: float) -> str:
    """The canonical text of a false-match rate, e.g. 0.001 -> '1e-3'."""
    mantissa, exp = f"{fmr:.0e}".split("e")
    return f"{mantissa}e{int(exp)}"


def calibrate(scores: PairScores, fmrs: list[float]) -> dict[str, dict[str, Any]]:
    """For each target FMR: the threshold, the FMR and TAR measured at it, and whether the data can show it."""
    out = {}
    for fmr in fmrs:
        t = round_up(threshold_at_far(scores.impostor, fmr))
        out[fmr_key(fmr)] = {
            "threshold": t,
            "measured_fmr": round(float((scores.impostor >= t).mean()), 6),
            "tar": round(tar_at(scores.genuine, t), 5),
            "resolvable": far_resolvable(len(scores.impostor), fmr),
        }
    return out


def calibration_record(embedder: Embedder, scores: PairScores, fmrs: list[float], data: list[str],
                       gate: bool, counts: dict[str, int], skip: list[str] | None = None,
                       target_fmr: float | None = None) -> dict[str, Any]:
    """The provenance-carrying record that `terminal calibrate` writes: model, data, date, thresholds."""
    return {
        "model": embedder.name, "model_version": embedder.version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "target_fmr": target_fmr, "data": data, "gate": gate, "gate_skip": sorted(skip or []), "counts": counts,
        "genuine_pairs": len(scores.genuine), "impostor_pairs": len(scores.impostor),
        "thresholds": calibrate(scores, fmrs),
    }


def config_snippet(record: dict[str, Any], fmr: float) -> str:
    """A ``[matching]`` TOML snippet that pins the threshold for ``fmr``, with its provenance as comments."""
    entry = record["thresholds"][fmr_key(fmr)]
    lines = [
        f"# terminal calibrate, {record['date']}: model {record['model']} ({record['model_version']})",
        f"# data: {', '.join(record['data'])} (gate {'on' if record['gate'] else 'off'}); "
        f"{record['genuine_pairs']} genuine / {record['impostor_pairs']} impostor pairs",
        f"# at this threshold: FMR {entry['measured_fmr']}, TAR {entry['tar']}"
        + ("" if entry["resolvable"] else " (too few impostor pairs to measure this FMR: threshold is a bound)"),
        "[matching]",
        f"target_fmr = {fmr!r}",
        f"threshold = {entry['threshold']}",
    ]
    return "\n".join(lines) + "\n"


def load_shipped(path: Path = SHIPPED_PATH) -> dict[str, Any]:
    """The shipped calibrations keyed by model name ({} when the file is absent)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as err:
        raise ConfigError(f"{path}: shipped calibration is not valid JSON: {err}") from None
    return dict(data.get("models", {}))


def resolve_threshold(cfg: Config, embedder: Embedder, shipped: dict[str, Any] | None = None) -> tuple[float, str]:
    """(threshold, where it came from): ``[matching] threshold`` if set, else the shipped calibration.

    ConfigError when neither exists for this model at this FMR: deciding without a calibration would be
    guessing.
    """
    m = cfg.matching
    if m.threshold is not None:
        return float(m.threshold), "config [matching] threshold"
    shipped = load_shipped() if shipped is None else shipped
    rec = shipped.get(embedder.name)
    key = fmr_key(m.target_fmr)
    if rec is None or rec.get("model_version") != embedder.version or key not in rec.get("thresholds", {}):
        raise ConfigError(
            f"no calibrated threshold for model {embedder.name} ({embedder.version}) at FMR {key}: run "
            "`terminal calibrate DIR --fmr ...` and set [matching] threshold"
        )
    return float(rec["thresholds"][key]["threshold"]), (
        f"shipped calibration {rec['date']} on {', '.join(rec['data'])} at FMR {key}")
