"""The enroll / verify / calibrate / evaluate match commands, run in-process on real images."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.matching.template import load_template
from tests.matching.conftest import BIDEN, OBAMA, image_path
from tests.support.shared import data

# The shared images are small research photos: framing checks are off for them, as in `evaluate match`.
SKIP = ["--skip", "FACE_OFF_CENTER,FACE_TOO_CLOSE,FACE_TOO_SMALL,UNSTEADY"]


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, object]]:
    code = main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if out else {}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "obama.json"
    code = main(
        [
            "enroll",
            str(image_path(f"{OBAMA}/obama.jpg")),
            str(image_path(f"{OBAMA}/obama3.jpg")),
            "--out",
            str(out),
            "--dtype",
            "float32",
            "--no-gate",
        ]
    )
    assert code == 0
    return out


def test_enroll_writes_a_template_with_verdicts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    code, res = run_json(
        capsys,
        [
            "enroll",
            str(image_path(f"{OBAMA}/obama.jpg")),
            str(data("conditions/no_face/skimage_coffee.jpg")),
            "--out",
            str(out),
            "--json",
            *SKIP,
        ],
    )
    assert code == 0 and res["count"] == 1 and res["dtype"] == "float16"
    images = res["images"]
    assert isinstance(images, list) and [i["used"] for i in images] == [True, False]
    assert images[0]["gate"]["passed"] is True and images[1]["reasons"] == ["NO_FACE"]
    t = load_template(out)
    assert t.count == 1 and t.dim == 128 and t.model == "mobilefacenet_sirius_128d_fp16"


def test_verify_match_no_match_and_rejected(capsys: pytest.CaptureFixture[str], reference: Path) -> None:
    code, res = run_json(
        capsys,
        ["verify", "--reference", str(reference), "--probe", str(image_path(f"{OBAMA}/obama2.jpg")), "--json", *SKIP],
    )
    assert code == 0 and res["decision"] == "match"
    assert float(res["score"]) >= float(res["threshold"])  # type: ignore[arg-type]
    assert res["model"] == "mobilefacenet_sirius_128d_fp16" and res["n_reference"] == 2
    code, res = run_json(
        capsys,
        ["verify", "--reference", str(reference), "--probe", str(image_path(f"{BIDEN}/biden2.jpg")), "--json", *SKIP],
    )
    assert code == 1 and res["decision"] == "no_match"
    code, res = run_json(
        capsys,
        [
            "verify",
            "--reference",
            str(reference),
            "--probe",
            str(data("conditions/multi_face/fr_two_people.jpg")),
            "--json",
            *SKIP,
        ],
    )
    assert code == 3 and res["decision"] == "rejected" and "MULTIPLE_FACES" in res["reasons"]  # type: ignore[operator]
    assert "score" not in res


def test_verify_with_image_reference_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "--reference",
            str(image_path(f"{BIDEN}/biden.jpg")),
            "--probe",
            str(image_path(f"{BIDEN}/biden2.jpg")),
            "--no-gate",
        ]
    )
    line = capsys.readouterr().out.strip()
    assert code == 0 and line.startswith("match: score ")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.update(embeddings=["%%%"]), "BAD_BASE64"),
        (lambda d: d.update(dim=512), "WRONG_DIM"),
        (lambda d: d.update(model="mobilefacenet_insightface_y1_128d_fp32_NONCOMMERCIAL"), "WRONG_MODEL"),
    ],
)
def test_verify_bad_reference_is_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, reference: Path, mutate: object, code: str
) -> None:
    d = json.loads(reference.read_text())
    mutate(d)  # type: ignore[operator]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    rc = main(["verify", "--reference", str(bad), "--probe", str(image_path(f"{OBAMA}/obama2.jpg")), "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 65 and len(err) == 1 and code in err[0]


def small_set(root: Path) -> Path:
    """Four identities of match_clean linked into ``root`` (a subset keeps the test fast)."""
    src = data("match_clean")
    root.mkdir()
    for ident in ["orl_att-s3", "orl_att-s4", "yalefaces-subject01", "cmu_faces-an2i"]:
        os.symlink(src / ident, root / ident)
    return root


@pytest.mark.slow
def test_evaluate_match_json_shape_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    d = small_set(tmp_path / "set")
    png = tmp_path / "roc.png"
    code, res = run_json(capsys, ["evaluate", "match", str(d), "--json", "--plot", str(png)])
    assert code == 0
    assert list(res) == [
        "images",
        "identities",
        "embedded",
        "no_face",
        "rejected_by_gate",
        "genuine_pairs",
        "impostor_pairs",
        "eer",
        "tar_at_far",
        "threshold_at_far",
        "gate_rejected",
        "gate_rejected_rate",
        "no_face_rate",
        "fta_rate",
        "threshold",
        "fmr_at_threshold",
        "fnmr_at_threshold",
        "gfrr_at_threshold",
        "gfar_at_threshold",
    ]
    assert res["gate_rejected"] == 0 and res["fta_rate"] == res["no_face_rate"]  # no --gate: nothing rejected
    assert res["gfrr_at_threshold"] is not None and res["fnmr_at_threshold"] is not None
    assert res["identities"] == 4 and res["images"] == res["embedded"] + res["no_face"]  # type: ignore[operator]
    assert list(res["tar_at_far"]) == ["1e-2", "1e-3", "1e-4"]  # type: ignore[arg-type]
    assert res["eer"] is not None and float(res["eer"]) < 0.05  # type: ignore[arg-type]
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_calibrate_writes_a_loadable_snippet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from terminal.config import load_config

    d = small_set(tmp_path / "set")
    snippet, record = tmp_path / "new" / "matching.toml", tmp_path / "other" / "cal.json"  # folders made on demand
    code = main(["calibrate", str(d), "--fmr", "1e-2", "--out", str(snippet), "--record", str(record)])
    assert code == 0
    cfg = load_config(snippet)
    rec = json.loads(record.read_text())
    assert cfg.matching.target_fmr == 0.01
    assert cfg.matching.threshold == rec["thresholds"]["1e-2"]["threshold"]
    assert rec["thresholds"]["1e-2"]["measured_fmr"] <= 0.01 and rec["impostor_pairs"] > 100
    assert rec["thresholds"]["1e-2"]["fmr_upper_bound"] >= rec["thresholds"]["1e-2"]["measured_fmr"]
    assert "false_matches" in rec["thresholds"]["1e-2"] and rec["gate_version"] is None  # calibrated ungated


@pytest.mark.slow
def test_gate_turns_away_at_most_5pct_of_the_clean_set(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14's end-to-end figure on the whole clean frontal set: the gate blocks only what costs matching.

    Measured 15 of 480 (3.13%), EER 0.078%, GFRR 3.26% at gate 2026-12-02.4 (runtime noise only moves a few images).
    """
    code, res = run_json(capsys, ["evaluate", "match", str(data("match_clean")), "--gate", "--json"])
    assert code == 0 and res["images"] == 480
    assert float(res["gate_rejected_rate"]) <= 0.04, res["gate_rejected"]  # type: ignore[arg-type]
    assert float(res["eer"]) <= 0.002  # type: ignore[arg-type]
    assert float(res["fmr_at_threshold"]) <= 0.001  # type: ignore[arg-type]
    assert float(res["gfrr_at_threshold"]) <= 0.04  # type: ignore[arg-type]  (target 1%: not met, docs/matching.md)
