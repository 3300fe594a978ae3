"""The `terminal evaluate edc` report: EDC curves of the unified quality and of each measure, and what each
check's limit does to matching (which checks remove errors and which only turn members away)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from terminal.analysis import codes as C
from terminal.matching.edc import (
    DISCARD_FRACTIONS,
    check_effect,
    edc_area,
    edc_curve,
    genuine_pairs,
    oracle_area,
)
from terminal.matching.qualityset import ImageRecord

AREA_UPTO = 0.2  # EDC areas are compared up to 20% discarded (a terminal cannot turn away more)


def _r(x: float, digits: int = 5) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), digits)


def edc_report(records: list[ImageRecord], threshold: float) -> dict[str, Any]:
    """EDC of the unified quality score and each measure, plus each check's effect at its limit."""
    faces = [r for r in records if r.embedding is not None]
    emb = np.stack([r.embedding for r in faces if r.embedding is not None]) if faces else np.zeros((0, 1))
    labels = [r.ident for r in faces]
    pairs = genuine_pairs(emb, labels)
    lab = np.asarray(labels)
    iu, ju = np.triu_indices(len(faces), k=1)
    imp_mask = lab[iu] != lab[ju] if len(faces) else np.zeros(0, bool)
    imp_scores = np.einsum("nd,nd->n", emb[iu[imp_mask]], emb[ju[imp_mask]]) if len(faces) else np.zeros(0)
    imp_i, imp_j = iu[imp_mask], ju[imp_mask]

    def curve_of(per_image: np.ndarray) -> dict[str, Any]:
        pq = np.minimum(per_image[pairs.first], per_image[pairs.second])
        curve = edc_curve(pairs.scores, pq, threshold)
        return {"area": _r(edc_area(curve, AREA_UPTO), 6), "curve": [[f, _r(e)] for f, e in curve]}

    def fmr(mask: np.ndarray) -> float | None:
        sel = imp_scores[mask]
        return _r(float((sel >= threshold).mean())) if sel.size else None

    out: dict[str, Any] = {
        "threshold": threshold,
        "images": len(records),
        "with_face": len(faces),
        "no_face": len(records) - len(faces),
        "gate_passed": sum(r.passed for r in records),
        "genuine_pairs": int(pairs.scores.size),
        "impostor_pairs": int(imp_scores.size),
        "fnmr_no_discard": _r(float((pairs.scores < threshold).mean())) if pairs.scores.size else None,
        "fmr_no_discard": fmr(np.ones(imp_scores.size, bool)),
        "area_upto": AREA_UPTO,
        "discard_fractions": list(DISCARD_FRACTIONS),
        "oracle_area": _r(oracle_area(pairs.scores, threshold, AREA_UPTO), 6) if pairs.scores.size else None,
        "random_area": None,
    }
    fnmr0 = out["fnmr_no_discard"]
    if fnmr0 is not None:
        out["random_area"] = _r(fnmr0 * AREA_UPTO, 6)  # discarding at random leaves the FNMR unchanged
    out["unified"] = curve_of(np.array([r.quality for r in faces]))
    gate_rejected = np.array([not r.passed for r in faces], bool)
    gate_effect = _effect(pairs, gate_rejected, threshold, fmr, imp_i, imp_j)
    gate_fnmr, gate_fmr = gate_effect["fnmr_kept"], gate_effect["fmr_kept"]
    codes = C.sort_codes({code for r in faces for code in r.margins})
    measures: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for code in codes:
        margin = np.array([r.margins.get(code, np.inf) for r in faces])
        measures[code] = curve_of(margin)
        # What the check rejects at its own (guidance) limit, whether or not it blocks a capture there.
        rejected = np.array([code in r.failures or code in r.advisories for r in faces], bool)
        checks[code] = _effect(pairs, rejected, threshold, fmr, imp_i, imp_j)
        # The gate without this check: images whose only failure is this one come back.
        back = np.array([not r.passed and set(r.failures) == {code} for r in faces], bool)
        without = gate_rejected & ~back
        e = check_effect(pairs, without, threshold)
        imp_hit = without[imp_i] | without[imp_j] if imp_i.size else np.zeros(0, bool)
        w = {"rejected_images": int(without.sum()), "fnmr": _r(e.fnmr_kept), "fmr": fmr(~imp_hit)}
        checks[code]["gate_without_it"] = w
        blocks = any(code in r.failures for r in faces)
        checks[code]["verdict"] = (
            "advisory (never blocks here)"
            if not blocks and checks[code]["rejected_images"]
            else "no sole rejection"
            if w["rejected_images"] == gate_effect["rejected_images"] and checks[code]["rejected_images"]
            else _verdict(checks[code], w, gate_fnmr, gate_fmr)
        )
    out["measures"] = measures
    out["checks"] = checks
    out["gate"] = gate_effect
    return out


def _effect(
    pairs: Any, rejected: np.ndarray, threshold: float, fmr: Any, imp_i: np.ndarray, imp_j: np.ndarray
) -> dict[str, Any]:
    e = check_effect(pairs, rejected, threshold)
    imp_hit = rejected[imp_i] | rejected[imp_j] if imp_i.size else np.zeros(0, bool)
    return {
        "rejected_images": e.rejected_images,
        "discarded_genuine_pairs": e.discarded_pairs,
        "fnmr_kept": _r(e.fnmr_kept),
        "fnmr_discarded": _r(e.fnmr_discarded),
        "false_non_matches_removed": e.false_non_matches_removed,
        "fmr_kept": fmr(~imp_hit),
        "fmr_discarded": fmr(imp_hit),
        "discarded_fail_more": e.helps,
        "verdict": "helps" if e.helps else ("no effect" if e.rejected_images == 0 else "only rejects"),
    }


def _verdict(marginal: dict[str, Any], without: dict[str, Any], gate_fnmr: float | None, gate_fmr: float | None) -> str:
    """ "helps" when the check removes errors: taking it out of the gate raises the FNMR or the FMR at the
    threshold by 10% or more; "only rejects" when it turns images away and matching gains nothing from it
    (``discarded_fail_more`` tells separately whether the comparisons it discards fail twice as often).
    A check that rejects no image on its own is reported as "no sole rejection" (other checks cover it)."""
    if marginal["rejected_images"] == 0:
        return "no effect"
    worse = any(
        w is not None and g is not None and w > 1.1 * g + 1e-9
        for w, g in ((without["fnmr"], gate_fnmr), (without["fmr"], gate_fmr))
    )
    return "helps" if worse else "only rejects"


def format_edc(rep: dict[str, Any]) -> str:
    """A readable summary: the baseline, the curves' areas and each check's verdict."""
    lines = [
        f"{rep['images']} images, {rep['with_face']} with a face, {rep['gate_passed']} pass the gate; "
        f"{rep['genuine_pairs']} genuine / {rep['impostor_pairs']} impostor pairs at threshold {rep['threshold']}",
        f"no discard: FNMR {rep['fnmr_no_discard']}, FMR {rep['fmr_no_discard']}",
        f"EDC area to {rep['area_upto']:.0%} discarded (lower is better): unified {rep['unified']['area']}, "
        f"oracle {rep['oracle_area']}, random {rep['random_area']}",
        f"{'measure':<18}{'area':>10}{'rejected':>10}{'FNMR kept':>11}{'FNMR disc.':>11}{'FNM rem.':>9}"
        f"{'FMR kept':>10}{'FMR disc.':>10}  verdict       gate without it: rejected FNMR FMR",
    ]
    for code, c in rep["checks"].items():
        lines.append(
            f"{code:<18}{rep['measures'][code]['area']!s:>10}{c['rejected_images']:>10}"
            f"{c['fnmr_kept']!s:>11}{c['fnmr_discarded']!s:>11}{c['false_non_matches_removed']:>9}"
            f"{c['fmr_kept']!s:>10}{c['fmr_discarded']!s:>10}  {c['verdict']:<13} "
            f"{c['gate_without_it']['rejected_images']} {c['gate_without_it']['fnmr']} "
            f"{c['gate_without_it']['fmr']}"
        )
    g = rep["gate"]
    lines.append(
        f"{'whole gate':<18}{'':>10}{g['rejected_images']:>10}{g['fnmr_kept']!s:>11}"
        f"{g['fnmr_discarded']!s:>11}{g['false_non_matches_removed']:>9}{g['fmr_kept']!s:>10}"
        f"{g['fmr_discarded']!s:>10}  {g['verdict']}"
    )
    return "\n".join(lines)


def plot_edc(rep: dict[str, Any], path: Path, title: str = "") -> None:
    """Draw the EDC curves (unified score bold, each measure thin) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    colours = plt.get_cmap("tab20")
    for i, (code, m) in enumerate(rep["measures"].items()):
        xs = [p[0] for p in m["curve"] if p[1] is not None]
        ax.plot(
            xs,
            [p[1] for p in m["curve"] if p[1] is not None],
            lw=1.2,
            color=colours(i % 20),
            ls=("-", "--", ":")[i % 3],
            label=code,
        )
    u = rep["unified"]["curve"]
    ax.plot(
        [p[0] for p in u if p[1] is not None],
        [p[1] for p in u if p[1] is not None],
        "k-",
        lw=2.5,
        label="unified quality",
    )
    ax.axhline(rep["fnmr_no_discard"] or 0.0, color="grey", ls=":", label="no discard")
    ax.set_xlabel("fraction of genuine comparisons discarded (lowest quality first)")
    ax.set_ylabel(f"FNMR at threshold {rep['threshold']}")
    ax.set_title(title or "error versus discard")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
