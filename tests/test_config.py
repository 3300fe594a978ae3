"""The config schema: good files load, bad files name the key and exit 78."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.config import load_config
from terminal.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_defaults_are_valid() -> None:
    cfg = load_config(None)  # tests/conftest.py hides the machine's own config file
    assert cfg.camera.backend == "replay"
    assert cfg.camera.flicker_hz == 50
    assert cfg.mqtt.brokers[0].startswith("mqtts://")  # TLS by default


def test_example_config_is_valid() -> None:
    cfg = load_config(REPO / "config.example.toml")
    assert cfg.terminal.id


def test_good_file(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, '[terminal]\nid = "kc-jakarta-01"\n[camera]\nbackend = "opencv"\nsource = "0"\nfps = 15\n')
    )
    assert cfg.terminal.id == "kc-jakarta-01"
    assert cfg.camera.backend == "opencv"
    assert cfg.camera.fps == 15.0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[camera]\nfsp = 30\n", "unknown key 'camera.fsp'"),
        ("[camera]\nwidth = 'wide'\n", "camera.width"),
        ("[camera]\nfps = -1\n", "camera.fps"),
        ("[camera]\nbackend = 'webcam'\n", "camera.backend"),
        ("[nosuchsection]\na = 1\n", "unknown key 'nosuchsection'"),
        ("[terminal]\nid = 'has spaces'\n", "terminal.id"),
        ("[camera\n", "not valid TOML"),
    ],
)
def test_bad_file_names_key(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert needle in str(exc.value)
    assert str(path) in str(exc.value)


def test_unknown_key_lists_allowed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="allowed keys here: .*backend"):
        load_config(write(tmp_path, "[camera]\nbakend = 'replay'\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_config_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "[camera]\nfps = 25\n[mqtt]\nenabled = false\n")  # broker policy: tests/security
    assert main(["config", "check", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("[light]\nring_pin = 99\n")
    assert main(["config", "check", str(bad)]) == 78
    err = capsys.readouterr().err
    assert "light.ring_pin" in err
    assert "Traceback" not in err
