"""Relabel files and fold keys of the quality evaluation (no models: pure bookkeeping)."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.analysis.evaluation import Sample, is_correct, summarise
from terminal.analysis.folds import fold_reports, identity_half, identity_of, load_relabel, relabel, source_of
from terminal.analysis.verdict import Verdict
from terminal.errors import SourceError


def test_source_and_identity_from_names() -> None:
    assert source_of(Path("cmu_faces__an2i__an2i_up_neutral_open.png")) == "cmu_faces"
    assert source_of(Path("synthetic_motion_blur__yalefaces__subject02__x_mblur.png")) == "yalefaces"
    assert source_of(Path("conditions__mask__17-with-mask.jpg")) == "conditions/mask"
    assert identity_of(Path("synthetic_motion_blur__yalefaces__subject02__x.png")) == "yalefaces/subject02"
    assert identity_of(Path("yalefaces__subject02__glasses.jpg")) == "yalefaces/subject02"
    assert identity_of(Path("conditions__mask__17-with-mask.jpg")) == "conditions__mask__17-with-mask"
    # Both images of one person fall in the same half.
    assert identity_half(Path("yalefaces__subject02__a.jpg")) == identity_half(Path("yalefaces__subject02__b.jpg"))


def test_glasses_expectations() -> None:
    assert is_correct("OCCLUDED_GLASSES", ["DARK_GLASSES"]) and is_correct("OCCLUDED_GLASSES", ["GLARE_ON_GLASSES"])
    assert not is_correct("OCCLUDED_GLASSES", ["TOO_DARK"])
    assert is_correct("CLEAR_GLASSES", ["TOO_BRIGHT"]) and not is_correct("CLEAR_GLASSES", ["DARK_GLASSES"])


def test_relabel_and_folds(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("file,expected\nyalefaces__subject01__glasses.jpg,CLEAR_GLASSES\n")
    ok = Verdict(True, [], None)
    samples = [
        Sample(Path("OCCLUDED_GLASSES/yalefaces__subject01__glasses.jpg"), "OCCLUDED_GLASSES", ok),
        Sample(Path("ok/cmu_faces__an2i__an2i_straight.png"), "ok", ok),
    ]
    out = relabel(samples, load_relabel(csv))
    assert [s.expected for s in out] == ["CLEAR_GLASSES", "ok"]
    assert summarise(out)["per_condition"]["CLEAR_GLASSES"] == {"n": 1, "correct": 1, "rejected": 0}
    assert set(fold_reports(out, "source")) == {"yalefaces", "cmu_faces"}
    assert set(fold_reports(out, "identity")) <= {"A", "B"}


@pytest.mark.parametrize("text", ["", "a,b\nx,y\n", "file,expected\nx.png,NOT_A_CODE\n"])
def test_bad_relabel_file_is_one_clear_error(tmp_path: Path, text: str) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text(text)
    with pytest.raises(SourceError):
        load_relabel(csv)
    with pytest.raises(SourceError, match="cannot read"):
        load_relabel(tmp_path / "missing.csv")
