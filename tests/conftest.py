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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """In the fast loop (-m "not slow"), name the tests that are slow but not marked so (they belong to -m slow)."""
    if (config.getoption("markexpr") or "").replace(" ", "") != "notslow":
        return
    slow = sorted(
        (
            (r.duration, r.nodeid)
            for key in ("passed", "failed")
            for r in terminalreporter.stats.get(key, [])
            if getattr(r, "when", "") in ("setup", "call") and r.duration > SLOW_S
        ),
        reverse=True,
    )
    if slow:
        terminalreporter.write_sep("-", f"tests over {SLOW_S:g} s not marked slow (add @pytest.mark.slow)")
        for duration, nodeid in slow:
            terminalreporter.write_line(f"{duration:6.1f} s  {nodeid}")


SLOW_S = 2.0
