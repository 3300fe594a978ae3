"""Fixtures shared by all tests."""

from __future__ import annotations

import pytest

from tests.support.broker import mosquitto_factory  # noqa: F401  (fixture: a real mosquitto on loopback)


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the machine's own config ($TERMINAL_CONFIG, /etc/terminal/config.toml): on an
    installed terminal that file would silently change the defaults the tests assert on."""
    from terminal.config import loader

    monkeypatch.delenv("TERMINAL_CONFIG", raising=False)
    monkeypatch.setattr(loader, "DEFAULT_PATH", tmp_path_factory.getbasetemp() / "no-such-config.toml")
