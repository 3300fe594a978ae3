"""Privacy and integrity on the terminal: 0600 templates, redacted monitor, models hashed as loaded,
recordings confined to their directory with sane timestamps, templates with checked counts and ranges."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from terminal.camera.recording import read_index
from terminal.cli.monitor import _fmt, redact
from terminal.errors import ModelError, SourceError
from terminal.matching.template import Template, TemplateError
from terminal.modelstore import load_manifest, model_path, models_dir, verified_bytes
from terminal.security import keys
from terminal.security.envelope import sign_command


def template(count: int = 2, dim: int = 128) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    return Template("m", "1", rng.normal(size=(count, dim)).astype(np.float32)).to_dict("float16")


def test_template_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    out.write_text("{}")
    os.chmod(out, 0o644)  # an old world-readable file is tightened too
    old = os.umask(0o022)
    try:
        Template.from_dict(template()).save(out)
        Template.from_dict(template()).save(tmp_path / "new.json")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o600 and (tmp_path / "new.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "change, code",
    [
        ({"count": 3}, "BAD_FORMAT"),
        ({"count": "2"}, "BAD_FORMAT"),
        ({"count": True}, "BAD_FORMAT"),
        ({"dim": 10**9}, "BAD_FORMAT"),
        ({"dim": 0}, "BAD_FORMAT"),
        ({"dim": 128.0}, "BAD_FORMAT"),
    ],
)
def test_template_count_and_dim_are_checked(change: dict[str, Any], code: str) -> None:
    with pytest.raises(TemplateError) as info:
        Template.from_dict({**template(), **change})
    assert info.value.code == code


def test_template_values_must_be_unit_rows_and_not_too_many() -> None:
    import base64

    big = base64.b64encode((np.ones(128, "<f2") * 60000).tobytes()).decode()
    with pytest.raises(TemplateError) as info:
        Template.from_dict({**template(1), "embeddings": [big]})
    assert info.value.code == "VALUE_RANGE"
    with pytest.raises(TemplateError):
        Template.from_dict(template(count=65))
    t = Template.from_dict(template())
    assert t.sha256 is not None and len(t.sha256) == 64


def test_monitor_never_prints_a_template(tmp_path: Path) -> None:
    cmd = {"request_id": "v1", "template": template()}
    env = sign_command(cmd, keys.generate(), terminal_id="t", name="verify")
    for payload in (cmd, env, {"x": [{"embedding": [0.1, 0.2]}]}):
        shown = json.dumps(redact(payload))
        assert "embeddings" not in shown or "<redacted>" in shown
        assert template()["embeddings"][0] not in shown and env["payload"] not in shown and "0.1" not in shown
        line = _fmt("terminal/t/cmd/verify", json.dumps(payload).encode(), False)
        assert template()["embeddings"][0] not in line and env["payload"] not in line
    assert "v1" in _fmt("terminal/t/cmd/verify", json.dumps(env).encode(), False)


def test_models_are_hashed_from_the_bytes_loaded_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_manifest()["face_detector"]
    src = models_dir() / spec.file
    if not src.is_file():
        pytest.skip("models not provisioned")
    d = tmp_path / "models"
    d.mkdir()
    shutil.copy(src, d / spec.file)
    assert model_path("face_detector", d) == d / spec.file
    assert len(verified_bytes(d / spec.file)) == src.stat().st_size
    data = bytearray((d / spec.file).read_bytes())
    data[len(data) // 2] ^= 1
    st = (d / spec.file).stat()
    (d / spec.file).write_bytes(bytes(data))
    os.utime(d / spec.file, ns=(st.st_atime_ns, st.st_mtime_ns))  # same path, size and mtime: no cache hides it
    with pytest.raises(ModelError, match="sha256"):
        model_path("face_detector", d)
    with pytest.raises(ModelError, match="sha256"):
        verified_bytes(d / spec.file)
    from terminal.analysis.detector import FaceDetector

    with pytest.raises(ModelError, match="sha256"):
        FaceDetector(d / spec.file)


def write_rec(d: Path, lines: list[dict[str, Any]]) -> Path:
    d.mkdir(exist_ok=True)
    (d / "frames.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return d


@pytest.mark.parametrize(
    "bad, needle",
    [
        ({"file": "../secret.png"}, "outside"),
        ({"file": "/etc/passwd"}, "outside"),
        ({"file": ""}, "outside"),
        ({"timestamp": "NaN"}, "finite"),
        ({"timestamp": 1e999}, "finite"),
        ({"timestamp": 0.0}, "increase"),
    ],
)
def test_recording_paths_stay_inside_and_time_moves_forward(tmp_path: Path, bad: dict[str, Any], needle: str) -> None:
    good = [{"index": 0, "file": "000000.png", "timestamp": 0.0}, {"index": 1, "file": "000001.png", "timestamp": 0.04}]
    read_index(write_rec(tmp_path / "ok", good))
    rec = write_rec(tmp_path / "bad", [good[0], {**good[1], **bad}])
    with pytest.raises(SourceError, match=needle):
        read_index(rec)
    (tmp_path / "bad" / "link.png").symlink_to(tmp_path / "ok" / "frames.jsonl")
    write_rec(rec, [good[0], {**good[1], "file": "link.png"}])
    with pytest.raises(SourceError, match="outside"):
        read_index(rec)
