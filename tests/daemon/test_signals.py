"""Signals as polled flags, and SIGHUP config reload that keeps the old config on error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from terminal.config import load_config
from terminal.daemon.reload import changed_sections, reload_config
from terminal.daemon.signals import SignalError, SignalFlags
from tests.daemon.sockets import DatagramListener

REPO = Path(__file__).resolve().parents[2]


def test_sigterm_and_sigint_request_stop() -> None:
    with SignalFlags() as flags:
        assert not flags.stop_requested and not flags.wait(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
        assert flags.wait(5)
        assert flags.stop_requested and flags.stop_count == 1 and flags.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)
        flags.wait(5)
        assert flags.stop_count == 2 and flags.signal_name == "SIGINT"
        assert not flags.reload_pending


def test_sighup_requests_one_reload() -> None:
    with SignalFlags() as flags:
        os.kill(os.getpid(), signal.SIGHUP)
        assert flags.wait(5)
        assert not flags.stop_requested
        assert flags.take_reload()
        assert not flags.take_reload(), "a reload is taken once"
        assert not flags.wait(0.01)


def test_previous_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with SignalFlags():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_wait_wakes_on_a_signal_from_another_thread() -> None:
    with SignalFlags() as flags:
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGHUP))
        timer.start()
        woke = flags.wait(30)  # would block 30 s without the self-pipe
        timer.join()
        assert woke and flags.take_reload()


def test_programmatic_requests() -> None:
    flags = SignalFlags()
    try:
        flags.request_reload()
        flags.request_stop()
        assert flags.wait(0) and flags.stop_requested and flags.take_reload()
    finally:
        flags.close()


def test_install_outside_main_thread_is_refused() -> None:
    errors: list[BaseException] = []
    flags = SignalFlags()

    def install() -> None:
        try:
            flags.install()
        except SignalError as err:
            errors.append(err)

    t = threading.Thread(target=install)
    t.start()
    t.join()
    flags.close()
    assert len(errors) == 1 and "main thread" in str(errors[0])


def test_reload_config_accepts_a_valid_change(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[terminal]\nid = "t-01"\n[mqtt]\nenabled = false\n')
    current = load_config(path)
    path.write_text('[terminal]\nid = "t-01"\n[mqtt]\nenabled = false\n[logging]\nlevel = "debug"\n')
    new, error = reload_config(path, current)
    assert error is None
    assert new.logging.level == "debug"
    assert changed_sections(current, new) == ["logging"]


def test_reload_cannot_make_the_terminal_anonymous(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[mqtt]\nenabled = false\n")
    current = load_config(path)
    path.write_text('[mqtt]\nbrokers = ["mqtt://10.0.0.1:1883"]\n[security]\nrequire_signed_commands = false\n')
    kept, error = reload_config(path, current)
    assert kept is current and error is not None and "anonymous" in error and "cleartext" in error


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[camera]\nfps = -3\n", "camera.fps"),
        ("[camera]\nfpz = 3\n", "unknown key 'camera.fpz'"),
        ("[camera\n", "not valid TOML"),
    ],
)
def test_reload_config_keeps_the_old_config_on_error(
    tmp_path: Path, text: str, expect: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[terminal]\nid = "t-01"\n')
    current = load_config(path)
    path.write_text(text)
    kept, error = reload_config(path, current)
    assert kept is current
    assert error is not None and expect in error and str(path) in error
    assert any("reload refused" in r.getMessage() for r in caplog.records)


def test_reload_of_a_deleted_file_keeps_the_old_config(tmp_path: Path) -> None:
    current = load_config(None)
    kept, error = reload_config(tmp_path / "gone.toml", current)
    assert kept is current and error is not None and "not found" in error


CHILD = r"""
import sys, time
from terminal.daemon.sdnotify import Notifier
from terminal.daemon.signals import SignalFlags
from terminal.daemon.reload import reload_config
from terminal.config import load_config

path = sys.argv[1]
cfg = load_config(path)
notifier = Notifier()
with SignalFlags() as flags:
    notifier.ready("idle")
    while not flags.stop_requested:
        flags.wait(5.0)
        if flags.take_reload():
            cfg, error = reload_config(path, cfg)
            notifier.status(f"reload refused: {error}" if error else f"reloaded, level {cfg.logging.level}")
    notifier.stopping(f"stopping ({flags.signal_name})")
sys.exit(0)
"""


def test_child_loop_reloads_on_sighup_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """A minimal main loop in a real process: READY, SIGHUP reload (good, then bad), SIGTERM → STOPPING, exit 0."""
    path = tmp_path / "config.toml"
    path.write_text('[mqtt]\nenabled = false\n[logging]\nlevel = "info"\n')
    sock = DatagramListener()
    env = dict(os.environ, NOTIFY_SOCKET=sock.env_value, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env)
    try:
        assert sock.receive(30) == b"READY=1\nSTATUS=idle"
        path.write_text('[mqtt]\nenabled = false\n[logging]\nlevel = "debug"\n')
        proc.send_signal(signal.SIGHUP)
        assert sock.receive(10) == b"STATUS=reloaded, level debug"
        path.write_text('[logging]\nlevel = "loud"\n')
        proc.send_signal(signal.SIGHUP)
        msg = sock.receive(10)
        assert msg is not None and msg.startswith(b"STATUS=reload refused: ") and b"logging.level" in msg
        proc.send_signal(signal.SIGTERM)
        assert sock.receive(10) == b"STOPPING=1\nSTATUS=stopping (SIGTERM)"
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
