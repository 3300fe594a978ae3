"""An empty credential file (as install.sh leaves it) means no password, not an empty one."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.report.credentials import mqtt_password
from terminal.report.settings import MqttConfig


def test_empty_credential_is_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERMINAL_MQTT_PASSWORD", raising=False)
    (tmp_path / "mqtt_password").write_text("\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert mqtt_password(MqttConfig(username="kc-01")) is None
    (tmp_path / "mqtt_password").write_text("s3cret\n")
    assert mqtt_password(MqttConfig(username="kc-01")) == "s3cret"
