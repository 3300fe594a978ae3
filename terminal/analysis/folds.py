"""Held-out views of a quality evaluation: relabelled expectations, leave-one-source-out and identity halves.

The quality set's file names carry their origin, ``<dataset>__<identity>__<file>`` (``conditions__<kind>__<file>``
for images without identity; synthetic blur is ``synthetic_motion_blur__<dataset>__<identity>__<file>`` and
belongs to the people of its source dataset). The gate is not trained, so a held-out fold is simply the
gate's report on the images of one source (or one identity half) that no limit was tuned on.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from terminal.analysis import codes as C
from terminal.analysis.evaluation import MUST_NOT_FAIL, Sample, summarise
from terminal.errors import SourceError

__all__ = ["MUST_NOT_FAIL", "fold_reports", "identity_of", "load_relabel", "relabel", "source_of"]


def load_relabel(path: Path) -> dict[str, str]:
    """``file,expected`` rows (header required): the expected outcome of an image by file name."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise SourceError(f"{path}: cannot read the relabel file: {err.strerror}") from None
    if not rows or not {"file", "expected"} <= set(rows[0]):
        raise SourceError(f"{path}: expected a CSV with columns file,expected")
    out = {}
    for r in rows:
        exp = r["expected"].strip()
        if exp not in C.GATE_CODES and exp != "ok" and exp not in MUST_NOT_FAIL:
            raise SourceError(f"{path}: unknown expected outcome '{exp}' for {r['file']}")
        out[r["file"].strip()] = exp
    return out


def relabel(samples: Iterable[Sample], table: dict[str, str]) -> list[Sample]:
    """The samples with the expected outcome replaced where ``table`` names the file."""
    return [Sample(s.path, table.get(s.path.name, s.expected), s.verdict) for s in samples]


def _parts(path: Path) -> list[str]:
    parts = path.stem.split("__")
    return parts[1:] if parts[0] == "synthetic_motion_blur" and len(parts) > 2 else parts


def source_of(path: Path) -> str:
    """The source dataset of a quality-set image (``conditions/<kind>`` for the condition folders)."""
    parts = _parts(path)
    if len(parts) < 2:
        return "unknown"
    return f"conditions/{parts[1]}" if parts[0] == "conditions" else parts[0]


def identity_of(path: Path) -> str:
    """The person in a quality-set image (images without identity are their own)."""
    parts = _parts(path)
    if len(parts) < 3 or parts[0] == "conditions":
        return path.stem
    return f"{parts[0]}/{parts[1]}"


def identity_half(path: Path) -> str:
    """ "A" or "B" by the parity of the identity's md5 (stable, independent of the data's order)."""
    return "AB"[hashlib.md5(identity_of(path).encode()).digest()[0] % 2]


def fold_reports(samples: list[Sample], by: str) -> dict[str, dict[str, Any]]:
    """One report per source (``by="source"``) or identity half (``by="identity"``)."""
    key = source_of if by == "source" else identity_half
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(key(s.path), []).append(s)
    return {name: summarise(group) for name, group in sorted(groups.items())}
