"""Unsigned commands need ``mqtt.allow_insecure``; weakened liveness is allowed but loud (review 3)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.config import load_config
from terminal.daemon.reload import reload_config
from terminal.security import keys

SECURE = '[mqtt]\nbrokers = ["mqtts://broker.example:8883"]\nusername = "shop-7"\n'


def write(tmp: Path, text: str, name: str = "c.toml") -> Path:
    pub = tmp / "central.pub.pem"
    pub.write_text(keys.public_pem(keys.generate().public_key()))
    path = tmp / name
    path.write_text(text.replace("CENTRAL", str(pub)))
    return path


def test_unsigned_commands_are_refused_without_allow_insecure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write(tmp_path, SECURE + "[security]\nrequire_signed_commands = false\n")
    assert main(["config", "check", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert "require_signed_commands = false" in err and "allow_insecure" in err and "Traceback" not in err
    allowed = write(
        tmp_path, SECURE + "allow_insecure = true\n[security]\nrequire_signed_commands = false\n", "ok.toml"
    )
    assert main(["config", "check", str(allowed)]) == 0
    out = capsys.readouterr()
    assert "WARNING" in out.out and any(
        "WEAKENED" in line and "require_signed_commands" in line for line in out.err.splitlines()
    )


def test_a_reload_cannot_switch_signed_commands_off(tmp_path: Path) -> None:
    path = write(tmp_path, SECURE + '[security]\ncentral_public_keys = ["CENTRAL"]\n')
    current = load_config(path)
    path.write_text(SECURE + "[security]\nrequire_signed_commands = false\n")
    kept, error = reload_config(path, current)
    assert kept is current and error is not None and "require_signed_commands" in error


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("[session]\nliveness = false\n", "session.liveness = false"),
        ("[pad]\nenabled = false\n", "pad.enabled = false"),
        ("[pad]\nthreshold = 0.0\n", "pad.threshold = 0"),
        ("[session]\nseed = 7\n", "session.seed"),
        ('[session]\nplan = ["blink"]\n', "session.plan"),
        ("[session]\nblinks_max = 1\n", "the number of blinks asked is always the same"),
    ],
)
def test_weakened_liveness_is_warned_at_check_and_reload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, setting: str, needle: str
) -> None:
    base = SECURE + '[security]\ncentral_public_keys = ["CENTRAL"]\n'
    path = write(tmp_path, base + setting)
    current = load_config(write(tmp_path, base, "base.toml"))
    with caplog.at_level(logging.WARNING):  # before main(): the CLI's log setup stops propagation to caplog
        new, error = reload_config(path, current)
    assert error is None and new is not current
    assert any(r.levelno == logging.WARNING and needle in r.getMessage() for r in caplog.records)
    assert main(["config", "check", str(path)]) == 0
    assert any("WARNING" in line and needle in line for line in capsys.readouterr().err.splitlines())


def test_the_shipped_defaults_warn_about_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SECURE + '[security]\ncentral_public_keys = ["CENTRAL"]\n')
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr()
    assert "WARNING" not in out.err and out.out.strip().endswith(": OK")


def test_the_demo_still_checks(capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.toml"
    assert main(["config", "check", str(demo)]) == 0
