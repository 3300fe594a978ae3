"""The Raspberry Pi OS Bookworm break, reproduced here: picamera2 from apt in a --system-site-packages venv
that carries numpy 2 fails with "numpy.dtype size changed" until setup.sh's fix (firmware/picamera2_venv.sh).

The simulated Pi layout:
- a "system site" directory standing in for /usr/lib/python3/dist-packages, appended to the venv's sys.path by a
  .pth file, i.e. AFTER the venv's own site-packages, exactly where Debian's directory sits in such a venv;
- in it, a REAL numpy-1.x build of simplejpeg (the 1.6.6 wheel from PyPI, the version Bookworm packages, compiled
  against numpy 1.x: its C extension performs numpy's ABI check at import, as Debian's python3-simplejpeg does);
- picamera2's import chain as a stand-in (package -> picamera2.py -> encoders -> simplejpeg, numpy, libcamera),
  and libcamera stubbed (no camera here);
- the venv's numpy 2 from requirements.lock (hash-checked), as setup.sh installs it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
FIX = ROOT / "firmware" / "picamera2_venv.sh"
# Bookworm's python3-simplejpeg is 1.6.6, built against numpy 1.24; PyPI's cp311 wheel of it is a numpy-1 build.
OLD_WHEEL = "simplejpeg-1.6.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_24_x86_64.whl"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.version_info[:2] != (3, 11) or os.uname().machine != "x86_64",
        reason="the numpy-1 simplejpeg wheel used as Debian's copy is cp311 x86-64",
    ),
]

PICAMERA2_STANDIN = {
    "picamera2/__init__.py": "from .picamera2 import Picamera2  # as the real package\n",
    "picamera2/picamera2.py": (
        "import numpy as np\nimport libcamera\nfrom .encoders import JpegEncoder\n\n"
        "class Picamera2:\n    def __init__(self, camera_num=0):\n"
        "        self.camera_manager = libcamera.CameraManager.singleton()\n"
    ),
    "picamera2/encoders/__init__.py": "from .jpeg_encoder import JpegEncoder\n",
    "picamera2/encoders/jpeg_encoder.py": "import simplejpeg\n\nclass JpegEncoder:\n    codec = simplejpeg\n",
    "libcamera/__init__.py": "class CameraManager:\n    @staticmethod\n    def singleton():\n        return None\n",
}


def _lock_entry(name: str) -> str:
    """One package's block (pin, markers, hashes) from requirements.lock."""
    out, take = [], False
    for line in LOCK.read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            take = re.split(r"[=;\s]", line, maxsplit=1)[0].lower() == name
        if take and not line.lstrip().startswith("#"):
            out.append(line)
    assert out, f"{name} missing from requirements.lock"
    return "\n".join(out).rstrip(" \\") + "\n"


def _pip(py: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(py), "-m", "pip", "--disable-pip-version-check", "-q", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def pi_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --system-site-packages venv with the lock's numpy 2 and the simulated Debian system site."""
    base = tmp_path_factory.mktemp("pi-layout")
    wheels = base / "wheels"
    got = _pip(
        Path(sys.executable),
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_24_x86_64",
        "--python-version",
        "3.11",
        "simplejpeg==1.6.6",
        "-d",
        str(wheels),
    )
    assert got.returncode == 0, f"cannot download {OLD_WHEEL} from PyPI: {got.stderr[-500:]}"
    wheel = wheels / OLD_WHEEL
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == (
        "19e1bedda45128c561e01e4d286242bad452516d2157a51c122aff638b700b61"
    ), "unexpected simplejpeg 1.6.6 wheel"
    system = base / "usr-lib-python3-dist-packages"
    system.mkdir()
    with zipfile.ZipFile(wheel) as z:
        z.extractall(system)
    for rel, text in PICAMERA2_STANDIN.items():
        (system / rel).parent.mkdir(parents=True, exist_ok=True)
        (system / rel).write_text(text)
    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    (site / "zz-debian-dist-packages.pth").write_text(f"{system}\n")
    reqs = base / "numpy.txt"
    reqs.write_text(_lock_entry("numpy"))
    got = _pip(py, "install", "--no-deps", "--require-hashes", "-r", str(reqs))
    assert got.returncode == 0, got.stderr[-800:]
    return py


def _import_picamera2(py: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(py),
            "-c",
            "from picamera2 import Picamera2; import numpy, simplejpeg; "
            "print(numpy.__version__, simplejpeg.__version__, simplejpeg.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bookworm_layout_breaks_then_setup_fix_makes_picamera2_import(pi_venv: Path) -> None:
    before = _import_picamera2(pi_venv)
    assert before.returncode != 0
    assert "ValueError: numpy.dtype size changed, may indicate binary incompatibility" in before.stderr
    assert "simplejpeg/_jpeg.pyx" in before.stderr or "simplejpeg" in before.stderr

    fix = subprocess.run(["bash", str(FIX), str(pi_venv), str(LOCK)], capture_output=True, text=True, timeout=600)
    assert fix.returncode == 0, fix.stderr[-800:]
    assert fix.stdout.startswith("picamera2: imports in the venv (numpy 2.")

    after = _import_picamera2(pi_venv)
    assert after.returncode == 0, after.stderr[-800:]
    numpy_v, simplejpeg_v, where = after.stdout.split()
    assert numpy_v.startswith("2.")
    assert simplejpeg_v == re.search(r"^simplejpeg==(\S+)", LOCK.read_text(), re.M).group(1)  # type: ignore[union-attr]
    assert str(pi_venv.parent.parent) in where  # the venv's copy shadows the "Debian" one

    # Idempotent, like setup.sh: a second run changes nothing and still passes the check.
    again = subprocess.run(["bash", str(FIX), str(pi_venv), str(LOCK)], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-800:]


def test_fix_reports_a_broken_picamera2_in_one_line(pi_venv: Path, tmp_path: Path) -> None:
    # libcamera missing (python3-libcamera not installed): the check fails with one clear line, no traceback.
    site = Path(
        subprocess.check_output(
            [str(pi_venv), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    blocker = site / "libcamera.py"
    blocker.write_text("raise ImportError('No module named _libcamera')\n")
    try:
        fix = subprocess.run(["bash", str(FIX), str(pi_venv), str(LOCK)], capture_output=True, text=True, timeout=600)
    finally:
        blocker.unlink()
    assert fix.returncode == 1
    # (this machine's pip config may add its own WARNING lines; the error is one line of its own)
    errors = [ln for ln in fix.stderr.splitlines() if ln.startswith("setup.sh: error:")]
    assert len(errors) == 1
    first = errors[0]
    assert first.startswith("setup.sh: error: picamera2 does not import in the venv")
    assert "ImportError: No module named _libcamera" in first
    assert "Traceback" not in fix.stderr


def test_fix_names_a_lock_without_simplejpeg(pi_venv: Path, tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(_lock_entry("numpy"))
    fix = subprocess.run(["bash", str(FIX), str(pi_venv), str(lock)], capture_output=True, text=True, timeout=120)
    assert fix.returncode != 0
    assert "simplejpeg not in" in fix.stderr and "tools/lock.sh" in fix.stderr
