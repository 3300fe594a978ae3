"""The kiosk unit's own command line (cage + Chromium, systemd/terminal-kiosk.service) shows the live page.

cage runs with wlroots' headless backend (no display here), as an unprivileged user like the unit's
``terminal-kiosk`` (cage refuses to run as root). Chromium's DevTools port tells which page it shows, and
the page server counts the page's WebSocket: the kiosk is on the daemon's page, connected, not an error page.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from terminal.kiosk.server import KioskServer
from terminal.kiosk.settings import KioskConfig
from tests.support.broker import free_port
from tests.support.browser import wait_until

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "terminal-kiosk.service"


def exec_start() -> list[str]:
    """ExecStart= of the unit, continuation lines joined, as an argument list (variables still unexpanded)."""
    text = UNIT.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("ExecStart="))
    return shlex.split(line.split("=", 1)[1])


def require_cage() -> None:
    missing = [t for t in ("cage", "Xwayland", "chromium") if shutil.which(t) is None]
    if missing:
        msg = f"the kiosk test needs {', '.join(missing)} (./setup.sh --dev installs cage, xwayland, chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def test_unit_command_line_is_what_the_issue_asks() -> None:
    argv = exec_start()
    assert argv[0] == "/usr/bin/cage" and "--" in argv and argv[argv.index("--") + 1] == "/usr/bin/chromium"
    assert {"--kiosk", "--incognito", "--ozone-platform=wayland"} <= set(argv) and argv[-1] == "${KIOSK_URL}"
    unit = UNIT.read_text()
    for line in (
        "User=terminal-kiosk",
        "Restart=always",
        "After=terminal.service",
        "PAMName=login",
        "IPAddressAllow=localhost",
        "DevicePolicy=closed",
    ):
        assert line in unit, line
    assert re.search(r"setterm --blank 0 --powersave off", unit)  # blanking off


@pytest.mark.slow
@pytest.mark.slow
def test_kiosk_command_shows_the_live_page(tmp_path: Path) -> None:
    require_cage()
    port, devtools = free_port(), free_port()
    server = KioskServer(
        KioskConfig(enabled=True, port=port),
        {
            "terminal_id": "cage-t",
            "support_phone": "",
            "languages": ["id", "en"],
            "keypad": True,
            "hide_cursor": True,
            "keypad_idle_s": 45,
        },
    )
    assert server.start()
    server.publish(
        {"screen": "idle", "code": "SCREEN_IDLE", "text": {"id": "Sentuh untuk mulai"}, "ts": time.time(), "seq": 1},
        True,
    )
    # Not under tmp_path: pytest's base directory is root-only, and the compositor runs as another user.
    run_dir = Path(tempfile.mkdtemp(prefix="kiosk-run-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run_dir),
        "XDG_RUNTIME_DIR": str(run_dir),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
        "KIOSK_URL": f"http://127.0.0.1:{port}/",
        "RUNTIME_DIRECTORY": str(run_dir),
    }
    argv = [
        a.replace("${RUNTIME_DIRECTORY}", str(run_dir)).replace("${KIOSK_URL}", env["KIOSK_URL"]) for a in exec_start()
    ]
    # CI containers may lack user namespaces for Chromium's sandbox; no GPU here; DevTools to see the page.
    argv[-1:-1] = ["--no-sandbox", "--disable-gpu", f"--remote-debugging-port={devtools}"]
    kw: dict[str, Any] = {}
    if os.geteuid() == 0:  # like the unit's User=: cage refuses root
        nobody = pwd.getpwnam("nobody")
        os.chown(run_dir, nobody.pw_uid, nobody.pw_gid)
        argv = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", *argv]
    log = (tmp_path / "cage.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw)
    try:

        def page() -> dict[str, Any] | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{devtools}/json", timeout=2) as r:
                    tabs = json.load(r)
            except OSError:
                return None
            return next(
                (
                    t
                    for t in tabs
                    if t.get("type") == "page"
                    and t.get("url") == env["KIOSK_URL"]
                    and t.get("title") == "Verifikasi Wajah"
                ),
                None,
            )  # loaded, not an error page

        try:
            tab = wait_until(page, 40, "Chromium under cage on the page")
        except AssertionError as err:
            raise AssertionError(f"{err}\n{(tmp_path / 'cage.log').read_text(errors='replace')[-2000:]}") from None
        assert tab["url"] == env["KIOSK_URL"]
        wait_until(
            lambda: server.stats["clients"] >= 1 and server.stats["states_sent"] >= 1, 20, "the kiosk page's WebSocket"
        )
        assert proc.poll() is None, "cage exited"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # our own process group only
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        server.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
