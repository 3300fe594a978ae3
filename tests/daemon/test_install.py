"""firmware/install.sh into a temporary root (--prefix): the tree a Raspberry Pi would get."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from terminal.config import load_config

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "firmware" / "install.sh"


@pytest.fixture(scope="module")
def tools() -> None:
    """systemd-sysusers, systemd-tmpfiles and systemctl do the real work (setup.sh --dev installs systemd)."""
    missing = [t for t in ("systemd-sysusers", "systemd-tmpfiles", "systemctl") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"missing {missing} (setup.sh --dev installs systemd)")
        pytest.skip(f"missing {missing}")


def install(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run install.sh with ``args``."""
    proc = subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def table(path: Path) -> dict[str, list[str]]:
    """An /etc/passwd or /etc/group file as name -> fields."""
    return {line.split(":")[0]: line.split(":") for line in path.read_text().splitlines() if line}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, tools: None) -> Path:
    """One install into a fresh temporary root, shared by the checks below."""
    prefix = tmp_path_factory.mktemp("pi-root")
    install("--prefix", str(prefix), "--skip-venv", "--terminal-id", "kiosk-07", "--allow-net", "10.20.0.0/16")
    return prefix


def test_service_user_and_groups(root: Path) -> None:
    passwd = table(root / "etc/passwd")
    groups = table(root / "etc/group")
    user = passwd["terminal"]
    assert user[5] == "/var/lib/terminal" and user[6] == "/usr/sbin/nologin"
    assert int(user[2]) < 1000, "a system user"
    assert "terminal" in groups["video"][3].split(",") and "terminal" in groups["gpio"][3].split(",")


def test_unit_and_drop_ins(root: Path) -> None:
    unit = root / "etc/systemd/system/terminal.service"
    assert unit.read_text() == (REPO / "systemd/terminal.service").read_text()
    link = root / "etc/systemd/system/multi-user.target.wants/terminal.service"
    assert link.is_symlink() and os.readlink(link) == "/etc/systemd/system/terminal.service"
    dropin = (root / "etc/systemd/system/terminal.service.d/ip-allow.conf").read_text()
    assert "IPAddressDeny=any" in dropin and "IPAddressAllow=localhost 10.20.0.0/16" in dropin
    assert "RuntimeWatchdogSec=" in (root / "etc/systemd/system.conf.d/terminal-watchdog.conf").read_text()


def test_config_and_credentials(root: Path) -> None:
    gid = int(table(root / "etc/group")["terminal"][2])
    etc = root / "etc/terminal"
    assert stat.S_IMODE(etc.stat().st_mode) == 0o750 and etc.stat().st_gid == gid and etc.stat().st_uid == 0
    cfg_file = etc / "config.toml"
    assert stat.S_IMODE(cfg_file.stat().st_mode) == 0o640 and cfg_file.stat().st_gid == gid
    cfg = load_config(cfg_file)
    assert cfg.camera.backend == "picamera2" and cfg.terminal.id == "kiosk-07"
    cred = etc / "credentials/mqtt_password"
    assert stat.S_IMODE((etc / "credentials").stat().st_mode) == 0o700
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600 and cred.stat().st_uid == 0 and cred.read_text() == ""
    key = etc / "credentials/terminal_key"  # the result-signing key, loaded by the unit as a systemd credential
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and key.stat().st_uid == 0
    from terminal.security import keys

    keys.load_private(key)  # an Ed25519 PKCS#8 PEM the daemon can use


def test_udev_rules_and_boot_fragment(root: Path) -> None:
    rules = (root / "etc/udev/rules.d/60-terminal.rules").read_text()
    for subsystem in ("video4linux", "media", "dma_heap", "gpio", "pwm"):
        assert f'SUBSYSTEM=="{subsystem}"' in rules
    boot = root / "boot/firmware"
    assert (boot / "terminal.txt").read_text() == (REPO / "firmware/config.txt").read_text()
    assert (boot / "config.txt").read_text().count("include terminal.txt") == 1


def test_code_tree(root: Path) -> None:
    opt = root / "opt/terminal"
    assert (opt / "terminal/daemon/sdnotify.py").is_file() and (opt / "setup.sh").is_file()
    assert not (opt / ".venv").exists() and not (opt / ".git").exists() and not (opt / "tests").exists()
    assert not list(opt.rglob("__pycache__"))
    assert not list(opt.rglob("*NONCOMMERCIAL*")), "evaluation-only models never go to the field"
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o044 == 0o044 for p in opt.rglob("*.py")), "readable by the service"


def test_second_run_keeps_config_and_secret(root: Path) -> None:
    cfg_file = root / "etc/terminal/config.toml"
    cred = root / "etc/terminal/credentials/mqtt_password"
    cfg_file.write_text(cfg_file.read_text() + "\n# edited by the technician\n")
    cred.write_text("s3cret\n")
    key = (root / "etc/terminal/credentials/terminal_key").read_bytes()
    out = install("--prefix", str(root), "--skip-venv").stdout
    assert (root / "etc/terminal/credentials/terminal_key").read_bytes() == key  # never a new identity
    assert "config.toml exists: kept" in out
    assert cfg_file.read_text().endswith("# edited by the technician\n")
    assert cred.read_text() == "s3cret\n"
    assert (root / "boot/firmware/config.txt").read_text().count("include terminal.txt") == 1


def test_dry_run_changes_nothing(tmp_path: Path, tools: None) -> None:
    prefix = tmp_path / "untouched"
    out = install("--prefix", str(prefix), "--skip-venv", "--dry-run").stdout
    assert not prefix.exists()
    for step in (
        "systemd-sysusers",
        "terminal.service",
        "config.toml",
        "systemd-tmpfiles",
        "60-terminal.rules",
        "include terminal.txt",
        "systemctl --root",
    ):
        assert step in out, step


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--terminal-id", "bad id!"], "--terminal-id"),
        (["--camera", "webcam"], "--camera"),
        (["--frobnicate"], "unknown option"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    proc = install("--prefix", str(tmp_path / "r"), "--skip-venv", *args, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "r").exists()


def test_prefix_install_refuses_to_build_a_venv(tmp_path: Path, tools: None) -> None:
    proc = install("--prefix", str(tmp_path / "r"), check=False)
    assert proc.returncode != 0 and "--skip-venv" in proc.stderr


def test_setup_sh_delegates(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            "bash",
            str(REPO / "setup.sh"),
            "--install-service",
            "--prefix",
            str(tmp_path / "r"),
            "--skip-venv",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "systemd-sysusers" in proc.stdout
    assert not (tmp_path / "r").exists()


def test_kiosk_not_installed_unless_enabled(root: Path) -> None:
    assert not (root / "etc/systemd/system/terminal-kiosk.service").exists()
    assert "terminal-kiosk" not in table(root / "etc/passwd")


@pytest.mark.slow
def test_kiosk_installed_when_enabled(tmp_path: Path, tools: None) -> None:
    install("--prefix", str(tmp_path), "--skip-venv", "--kiosk")
    cfg = load_config(tmp_path / "etc/terminal/config.toml")
    assert cfg.kiosk.enabled and cfg.kiosk.port == 8080
    unit = (tmp_path / "etc/systemd/system/terminal-kiosk.service").read_text()
    assert unit == (REPO / "systemd/terminal-kiosk.service").read_text()
    assert "User=terminal-kiosk" in unit and "/usr/bin/cage" in unit and "Restart=always" in unit
    assert "After=terminal.service" in unit and "--kiosk" in unit and "setterm --blank 0" in unit
    link = tmp_path / "etc/systemd/system/multi-user.target.wants/terminal-kiosk.service"
    assert link.is_symlink()
    user = table(tmp_path / "etc/passwd")["terminal-kiosk"]
    assert int(user[2]) < 1000 and user[6] == "/usr/sbin/nologin"
    groups = table(tmp_path / "etc/group")
    for g in ("video", "render", "input"):
        assert "terminal-kiosk" in groups[g][3].split(",")
    assert "terminal-kiosk" not in groups.get("gpio", ["", "", "", ""])[3].split(",")
    # A kept config decides: a port changed there reaches the kiosk's URL on the next run.
    conf = tmp_path / "etc/terminal/config.toml"
    conf.write_text(conf.read_text().replace("port = 8080", "port = 8181", 1))
    install("--prefix", str(tmp_path), "--skip-venv")
    url = (tmp_path / "etc/systemd/system/terminal-kiosk.service.d/url.conf").read_text()
    assert "KIOSK_URL=http://127.0.0.1:8181/" in url


def test_demo_state_is_never_installed(tmp_path: Path, tools: None) -> None:
    """var/ (the README demo's ref.json template, outbox, key) and any stray state never reach /opt/terminal."""
    src = tmp_path / "src"
    for part in ("firmware", "systemd", "terminal"):
        shutil.copytree(REPO / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "config.example.toml", src)
    (src / "var").mkdir()
    (src / "var" / "ref.json").write_text('{"embeddings": ["biometric"]}')
    (src / "outbox.sqlite").write_text("results")
    (src / "terminal" / "stray_key.pem").write_text("key")
    prefix = tmp_path / "root"
    subprocess.run(
        ["bash", str(src / "firmware" / "install.sh"), "--prefix", str(prefix), "--skip-venv"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    opt = prefix / "opt/terminal"
    assert (opt / "terminal/daemon/app.py").is_file()
    assert not (opt / "var").exists() and not (opt / "outbox.sqlite").exists()
    assert not list(opt.rglob("*.pem"))
