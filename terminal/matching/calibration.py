"""Decision thresholds: the shipped calibration per model, the configured override, and writing new ones."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from terminal.errors import ConfigError
from terminal.matching.bounds import (
    CONFIDENCE,
    clopper_pearson_upper,
    identity_bootstrap_upper,
    threshold_for_bound,
    threshold_for_identity_bound,
)
from terminal.matching.metrics import PairScores, far_resolvable, pair_scores, round_up, tar_at, threshold_at_far

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


BOUNDS = ("clopper-pearson", "identity-bootstrap")


def calibrate(
    scores: PairScores,
    fmrs: list[float],
    confidence: float = CONFIDENCE,
    bound: str = BOUNDS[0],
    embeddings: np.ndarray | None = None,
    labels: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """For each target FMR: the lowest threshold at which the FMR's upper confidence bound (Clopper-Pearson over
    all impostor pairs, or, stricter, the identity bootstrap, which needs the embeddings) is at most the
    target, with the FMR, its bound and the TAR measured there."""
    if bound not in BOUNDS:
        raise ValueError(f"unknown bound {bound!r} (known: {', '.join(BOUNDS)})")
    out = {}
    n = len(scores.impostor)
    for fmr in fmrs:
        raw, met = threshold_for_bound(scores.impostor, fmr, confidence)
        if bound == "identity-bootstrap" and embeddings is not None and labels is not None:
            raw = threshold_for_identity_bound(embeddings, labels, scores.impostor, fmr, raw, confidence)
        t = round_up(raw)
        false_matches = int((scores.impostor >= t).sum())
        out[fmr_key(fmr)] = {
            "threshold": t,
            "measured_fmr": round(false_matches / n, 6),
            "false_matches": false_matches,
            "fmr_upper_bound": round(clopper_pearson_upper(false_matches, n, confidence), 7),
            "bound_met": met,
            "tar": round(tar_at(scores.genuine, t), 5),
            "point_threshold": round_up(threshold_at_far(scores.impostor, fmr)),
            "resolvable": far_resolvable(n, fmr),
        }
    return out


def identity_folds(
    embeddings: np.ndarray, labels: list[str], fmr: float, shipped: float | None = None, confidence: float = CONFIDENCE
) -> list[dict[str, Any]]:
    """Identity-disjoint check: calibrate on one half of the identities (md5 parity), measure on the other.

    Reports, for each held-out half, the FMR (and its upper bound) at the threshold calibrated on the other
    half, and at ``shipped`` (the threshold calibrated on everything) when given.
    """
    lab = np.asarray(labels)
    half = np.array([hashlib.md5(x.encode()).digest()[0] % 2 for x in labels])
    out = []
    for held in (0, 1):
        train = pair_scores(embeddings[half != held], list(lab[half != held]))
        test = pair_scores(embeddings[half == held], list(lab[half == held]))
        n = len(test.impostor)
        if len(train.impostor) == 0 or n == 0:
            continue
        t = round_up(threshold_for_bound(train.impostor, fmr, confidence)[0])
        fm = int((test.impostor >= t).sum())
        row: dict[str, Any] = {
            "held_out": "AB"[held],
            "identities": len(set(lab[half == held])),
            "impostor_pairs": n,
            "genuine_pairs": len(test.genuine),
            "threshold": t,
            "fmr": round(fm / n, 6),
            "fmr_upper_bound": round(clopper_pearson_upper(fm, n, confidence), 7),
            "tar": round(tar_at(test.genuine, t), 5) if len(test.genuine) else None,
        }
        if shipped is not None:
            fs = int((test.impostor >= shipped).sum())
            row["shipped_threshold_fmr"] = round(fs / n, 6)
            row["shipped_threshold_fmr_upper_bound"] = round(clopper_pearson_upper(fs, n, confidence), 7)
        out.append(row)
    return out


def calibration_record(
    embedder: Embedder,
    scores: PairScores,
    fmrs: list[float],
    data: list[str],
    gate: bool,
    counts: dict[str, int],
    skip: list[str] | None = None,
    target_fmr: float | None = None,
    embeddings: np.ndarray | None = None,
    labels: list[str] | None = None,
    confidence: float = CONFIDENCE,
    bound: str = BOUNDS[0],
) -> dict[str, Any]:
    """The provenance-carrying record that `terminal calibrate` writes: model, gate version, data, date,
    thresholds with their FMR bounds, and (given the embeddings) identity-disjoint folds at the target."""
    from terminal.analysis.version import GATE_VERSION

    thresholds = calibrate(scores, fmrs, confidence, bound, embeddings, labels)
    rec: dict[str, Any] = {
        "model": embedder.name,
        "model_version": embedder.version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "target_fmr": target_fmr,
        "data": data,
        "gate": gate,
        "gate_version": GATE_VERSION if gate else None,
        "gate_skip": sorted(skip or []),
        "counts": counts,
        "genuine_pairs": len(scores.genuine),
        "impostor_pairs": len(scores.impostor),
        "bound": bound,
        "method": f"lowest threshold whose one-sided {confidence:.0%} upper bound on the FMR ({bound}; all "
        "impostor pairs) is at most the target; fmr_upper_bound is Clopper-Pearson, "
        "fmr_identity_bootstrap_upper resamples people (1000 resamples)",
        "thresholds": thresholds,
    }
    if embeddings is not None and labels is not None:
        for entry in thresholds.values():
            entry["fmr_identity_bootstrap_upper"] = round(
                identity_bootstrap_upper(embeddings, labels, entry["threshold"], confidence=confidence), 7
            )
    if embeddings is not None and labels is not None and target_fmr is not None:
        shipped = thresholds[fmr_key(target_fmr)]["threshold"]
        rec["identity_folds"] = identity_folds(embeddings, labels, target_fmr, shipped)
    return rec


def config_snippet(record: dict[str, Any], fmr: float) -> str:
    """A ``[matching]`` TOML snippet that pins the threshold for ``fmr``, with its provenance as comments."""
    entry = record["thresholds"][fmr_key(fmr)]
    lines = [
        f"# terminal calibrate, {record['date']}: model {record['model']} ({record['model_version']})",
        f"# data: {', '.join(record['data'])} (gate {'on' if record['gate'] else 'off'}); "
        f"{record['genuine_pairs']} genuine / {record['impostor_pairs']} impostor pairs",
        f"# at this threshold: FMR {entry['measured_fmr']} (95% upper bound {entry.get('fmr_upper_bound')}), "
        f"TAR {entry['tar']}"
        + (
            ""
            if entry.get("bound_met", entry["resolvable"])
            else " (too few impostor pairs to show this FMR: threshold is above every impostor score)"
        ),
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
    from terminal.analysis.version import GATE_VERSION

    if rec.get("gate") and rec.get("gate_version") != GATE_VERSION:
        log.warning(
            "shipped calibration was made with gate version %s, this gate is %s: re-run "
            "`terminal calibrate ... --gate --write-shipped`",
            rec.get("gate_version"),
            GATE_VERSION,
        )
    return float(rec["thresholds"][key]["threshold"]), (
        f"shipped calibration {rec['date']} on {', '.join(rec['data'])} at FMR {key}"
    )
