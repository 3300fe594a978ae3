"""Evaluate the gate over a folder laid out like shared/data/quality: one folder per expected code, plus ok/."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.analysis import codes as C
from terminal.analysis.gate import QualityGate
from terminal.analysis.verdict import Verdict
from terminal.camera.recording import IMAGE_SUFFIXES, read_image_rgb
from terminal.errors import SourceError

log = logging.getLogger(__name__)

OK_FOLDER = "ok"

# Pseudo-conditions whose images must NOT fail the listed codes (other failures are allowed): e.g. clear
# prescription glasses, which older labels filed under OCCLUDED_GLASSES (see folds.load_relabel).
MUST_NOT_FAIL: dict[str, frozenset[str]] = {"CLEAR_GLASSES": C.GLASSES_CODES}


@dataclass
class Sample:
    """One evaluated image: its expected outcome (a code or "ok") and the gate's verdict."""

    path: Path
    expected: str
    verdict: Verdict


def list_samples(root: Path) -> list[tuple[Path, str]]:
    """(image, expected) pairs from ``root/<CODE or ok>/<image>``, sorted; SourceError if there are none."""
    root = Path(root)
    if not root.is_dir():
        raise SourceError(f"{root}: not a directory (expected one folder per reason code plus ok/)")
    pairs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for img in sorted(folder.iterdir()):
            if img.suffix.lower() in IMAGE_SUFFIXES:
                pairs.append((img, folder.name))
    if not pairs:
        raise SourceError(f"{root}: no images in any sub-folder")
    return pairs


def run_gate(gate: QualityGate, pairs: Iterable[tuple[Path, str]]) -> Iterator[Sample]:
    """Analyse each image as a still (no stream state between images)."""
    for path, expected in pairs:
        gate.reset()
        yield Sample(path, expected, gate.analyze(read_image_rgb(path)))


def is_correct(expected: str, failures: list[str]) -> bool:
    """Whether the verdict gives the expected reason: the code itself, any glasses code for
    OCCLUDED_GLASSES (the one glasses check was split), or none of the listed codes for CLEAR_GLASSES."""
    if expected in MUST_NOT_FAIL:
        return not MUST_NOT_FAIL[expected] & set(failures)
    if expected == C.OCCLUDED_GLASSES:
        return bool(C.GLASSES_CODES & set(failures))
    return expected in failures


def summarise(samples: Iterable[Sample]) -> dict[str, Any]:
    """The evaluation report: per expected code n/correct/rejected, ok n/passed, macro and ok pass rate.

    ``correct`` = the expected code is among the codes the gate reported (blocking or advisory: the label asks
    whether the check *sees* the condition); ``rejected`` = the image was blocked for any reason; ok ``passed``
    = not blocked, ``advised`` = an advisory code was reported on it (a false alarm the member is not told).
    """
    per: dict[str, dict[str, int]] = {}
    ok = {"n": 0, "passed": 0, "advised": 0}
    for s in samples:
        if s.expected == OK_FOLDER:
            ok["n"] += 1
            ok["passed"] += int(s.verdict.passed)
            ok["advised"] += int(bool(s.verdict.advisories))  # passed, but an advisory code was reported
            continue
        row = per.setdefault(s.expected, {"n": 0, "correct": 0, "rejected": 0})
        row["n"] += 1
        row["correct"] += int(is_correct(s.expected, s.verdict.reported))
        row["rejected"] += int(not s.verdict.passed)
    rates = [r["correct"] / r["n"] for r in per.values() if r["n"]]
    return {
        "per_condition": dict(sorted(per.items())),
        "ok": ok,
        "summary": {
            "correct_rate_macro": round(sum(rates) / len(rates), 4) if rates else None,
            "ok_pass_rate": round(ok["passed"] / ok["n"], 4) if ok["n"] else None,
        },
    }


def format_table(report: dict[str, Any]) -> str:
    """A readable table of the report."""
    lines = [f"{'condition':<18}{'n':>5}{'correct':>9}{'rate':>7}{'rejected':>10}"]
    for code, r in report["per_condition"].items():
        lines.append(f"{code:<18}{r['n']:>5}{r['correct']:>9}{r['correct'] / r['n']:>7.2f}{r['rejected']:>10}")
    ok = report["ok"]
    if ok["n"]:
        lines.append(
            f"{'ok (passed)':<18}{ok['n']:>5}{ok['passed']:>9}{ok['passed'] / ok['n']:>7.2f}"
            f"{'advisory on ' + str(ok.get('advised', 0)):>22}"
        )
    s = report["summary"]
    macro = "-" if s["correct_rate_macro"] is None else f"{s['correct_rate_macro']:.3f}"
    okr = "-" if s["ok_pass_rate"] is None else f"{s['ok_pass_rate']:.3f}"
    lines.append(f"macro correct rate {macro}   ok pass rate {okr}")
    return "\n".join(lines)


def evaluate(
    root: Path, gate: QualityGate, wrap: Callable[[Iterable[Sample], int], Iterable[Sample]] | None = None
) -> tuple[dict[str, Any], list[Sample]]:
    """Run the gate over ``root``; returns the report and the samples (for confusion details)."""
    pairs = list_samples(root)
    it: Iterable[Sample] = run_gate(gate, pairs)
    if wrap is not None:
        it = wrap(it, len(pairs))
    samples = list(it)
    return summarise(samples), samples
