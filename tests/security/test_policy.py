"""Safe by default: ``config check`` and ``run`` refuse anonymous, cleartext and unchecked-TLS brokers and
unusable keys unless ``[mqtt] allow_insecure = true``, which is logged loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.cli.main import main
from terminal.security import keys

REPO = Path(__file__).resolve().parents[2]


def central_pub(tmp: Path) -> Path:
    p = tmp / "central.pub.pem"
    p.write_text(keys.public_pem(keys.generate().public_key()))
    return p


def check(tmp: Path, mqtt: str, security: str | None = None) -> tuple[int, str]:
    cfg = tmp / "c.toml"
    sec = security if security is not None else f'central_public_keys = ["{central_pub(tmp)}"]'
    cfg.write_text(f"[mqtt]\n{mqtt}\n[security]\n{sec}\n")
    return main(["config", "check", str(cfg)]), str(cfg)


SECURE = 'brokers = ["mqtts://broker.example:8883"]\nusername = "shop-7"'


def test_a_field_config_passes(tmp_path: Path) -> None:
    assert check(tmp_path, SECURE)[0] == 0


@pytest.mark.parametrize(
    "mqtt, needle",
    [
        ('brokers = ["mqtts://broker.example:8883"]', "anonymous"),
        ('brokers = ["mqtt://broker.example:1883"]\nusername = "shop-7"', "cleartext"),
        ('brokers = ["mqtts://a:8883", "mqtt://b:1883"]\nusername = "shop-7"', "cleartext"),
        (SECURE + "\ntls_insecure = true", "tls_insecure"),
    ],
)
def test_insecure_broker_settings_are_refused_then_allowed_loudly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mqtt: str, needle: str
) -> None:
    rc, path = check(tmp_path, mqtt)
    err = capsys.readouterr().err
    assert rc == 78 and needle in err and path in err and "allow_insecure" in err and "Traceback" not in err
    assert check(tmp_path, mqtt + "\nallow_insecure = true")[0] == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "WARNING" in line and "INSECURE" in line]
    assert any(needle in line for line in warned), warned


def test_signed_commands_need_a_central_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(tmp_path, SECURE, security="")[0] == 78
    assert "central_public_keys is empty" in capsys.readouterr().err
    assert check(tmp_path, SECURE, security="require_signed_commands = false")[0] == 78  # needs allow_insecure
    assert check(tmp_path, SECURE + "\nallow_insecure = true", security="require_signed_commands = false")[0] == 0
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    assert check(tmp_path, SECURE, security=f'central_public_keys = ["{bad}"]')[0] == 78
    assert str(bad) in capsys.readouterr().err


def test_run_refuses_before_starting_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[terminal]\nstate_dir = "{tmp_path / "state"}"\n[mqtt]\nbrokers = ["mqtt://127.0.0.1:1"]\n')
    assert main(["run", "--config", str(cfg)]) == 78
    assert "anonymous" in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def test_demo_config_is_allowed_insecure_and_unsigned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(REPO / "examples" / "demo.toml")]) == 0
