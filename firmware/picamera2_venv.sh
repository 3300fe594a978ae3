#!/usr/bin/env bash
# Make Debian's picamera2 import inside the terminal's venv, and prove it (setup.sh runs this on a Pi).
#   firmware/picamera2_venv.sh VENV_PYTHON [LOCK]          LOCK default: requirements.lock beside setup.sh
#
# Why: the venv is made with --system-site-packages so that picamera2 and libcamera come from apt, but it
# carries numpy 2 from the lock, which shadows Debian's numpy. On Bookworm, python3-simplejpeg (imported by
# picamera2) is compiled against numpy 1.24, and its C extension refuses numpy 2 at import:
#   ValueError: numpy.dtype size changed, may indicate binary incompatibility
# (raspberrypi/picamera2 #1088, #1211). So every picamera2 dependency compiled against numpy's C API is
# installed into the venv itself from the hash lock (built for numpy 2), where it shadows the apt copy. On
# Trixie (numpy 2 in Debian) the venv copy is harmless. Then `from picamera2 import Picamera2` must work,
# else one clear line and exit 1.
set -euo pipefail
py=${1:?usage: picamera2_venv.sh VENV_PYTHON [LOCK]}
lock=${2:-"$(cd "$(dirname "$0")/.." && pwd)/requirements.lock"}
# picamera2's imports that link numpy's C API (the rest of its chain is pure Python or has no numpy ABI).
NUMPY_ABI_PACKAGES=${NUMPY_ABI_PACKAGES:-simplejpeg}

# The lock's entries (name==version, markers and every --hash) for those packages only.
reqs=$(mktemp)
trap 'rm -f "$reqs"' EXIT
"$py" - "$lock" "$NUMPY_ABI_PACKAGES" >"$reqs" <<'EOF'
import re, sys
lock, wanted = sys.argv[1], set(sys.argv[2].split())
entry, out = [], []
for line in open(lock, encoding="utf-8"):
    if re.match(r"[A-Za-z0-9]", line):
        entry = [line] if re.split(r"[=;\s]", line, maxsplit=1)[0].lower() in wanted else []
        out.extend(entry)
    elif entry and line.lstrip().startswith("--hash"):
        out.append(line)
missing = wanted - {re.split(r"[=;\s]", e, maxsplit=1)[0].lower() for e in out if not e.startswith(" ")}
if missing:
    sys.exit(f"picamera2_venv.sh: {', '.join(sorted(missing))} not in {lock}: run tools/lock.sh")
print("".join(out).rstrip(" \\\n"))
EOF

# In the venv itself, even when the system copy has the same version (it is built for another numpy).
"$py" -m pip install --disable-pip-version-check -q --no-deps --ignore-installed --require-hashes -r "$reqs"

if ! err=$("$py" -c 'from picamera2 import Picamera2' 2>&1); then
  echo "setup.sh: error: picamera2 does not import in the venv ($py): $(printf '%s\n' "$err" | tail -n 1)" >&2
  echo "  check: apt install python3-picamera2 python3-libcamera; then re-run ./setup.sh" >&2
  exit 1
fi
echo "picamera2: imports in the venv (numpy $("$py" -c 'import numpy; print(numpy.__version__)'), simplejpeg from $("$py" -c 'import os, simplejpeg; print(os.path.dirname(simplejpeg.__file__))'))"
