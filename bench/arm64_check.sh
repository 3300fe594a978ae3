#!/usr/bin/env bash
# The pipeline proven on arm64 without a Pi: a Debian bookworm arm64 userland (debootstrap --foreign), the
# locked aarch64 wheels (requirements.lock, sha256-checked), and the quality gate + embedder run under
# qemu-aarch64-static on a small sample of recorded frames; every verdict and embedding is compared with the
# x86-64 run of the same script (same codes, cosine >= 0.999). Then a set of broker-free unit tests runs there.
#
#   bench/arm64_check.sh [--per-class N] [--no-tests] [--suite bookworm|trixie]   (as root: debootstrap, chroot)
#   --suite trixie: Debian 13 with Python 3.13 and the lock's cp313 wheels (default bookworm, Python 3.11).
#
# Needs: debootstrap, qemu-user-static (Debian packages), network to deb.debian.org and PyPI, ../shared/data.
# Slow (emulation, ~20-50x): keep the sample small; the run is niced. Works without binfmt_misc: the chroot's
# interpreter is started by qemu-aarch64-static explicitly, so nothing is registered in the kernel. Without
# binfmt the arm64 interpreter cannot exec arm64 child processes, so tests that spawn subprocesses are left out.
# Environment: ARM64_ROOT (default /var/tmp/arm64-root-SUITE), DEBIAN_MIRROR, WORK (default /var/tmp/arm64-check).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
per_class=2; tests=1; suite=bookworm
while [ $# -gt 0 ]; do
  case "$1" in
    --per-class) per_class="$2"; shift ;;
    --no-tests) tests=0 ;;
    --suite) suite="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "arm64_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$suite" in
  bookworm) pyver=3.11; glib=libglib2.0-0 ;;
  trixie) pyver=3.13; glib=libglib2.0-0t64 ;;  # Debian 13 renamed it in the 64-bit time_t transition
  *) echo "arm64_check.sh: --suite bookworm or trixie" >&2; exit 2 ;;
esac
cptag=cp${pyver/./}
root=${ARM64_ROOT:-/var/tmp/arm64-root-$suite}
work=${WORK:-/var/tmp/arm64-check}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
shared=${TERMINAL_SHARED:-$here/../shared}
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "arm64_check.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install debootstrap"
qemu=$(command -v qemu-aarch64-static) || die "qemu-aarch64-static missing: apt-get install qemu-user-static"
[ -d "$shared/data/quality" ] || die "$shared/data/quality not found (set TERMINAL_SHARED)"
mkdir -p "$work"

if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  say "binfmt_misc: qemu-aarch64 registered ($(head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64))"
else
  say "binfmt_misc: no qemu-aarch64 entry here; running the interpreter under qemu-aarch64-static directly"
fi

# 1. Userland: first stage only (no arm64 code runs), then every downloaded package unpacked. Maintainer
#    scripts are not needed for an interpreter and shared libraries.
# (mediapipe's wheel links libEGL/libGLESv2 even for CPU inference; opencv-contrib's links libSM/libICE.)
if [ ! -x "$root/usr/bin/python$pyver" ] || [ ! -e "$root/usr/lib/aarch64-linux-gnu/libSM.so.6" ]; then
  umount "$root/proc" "$root/sys" 2>/dev/null || true
  rm -rf --one-file-system "$root"
  say "debootstrap $suite arm64 into $root"
  nice debootstrap --arch=arm64 --foreign --variant=minbase \
    --include="python3,libgl1,$glib,libgomp1,libegl1,libgles2,libsm6,libice6" "$suite" "$root" "$mirror" >"$work/debootstrap.log"
  for deb in "$root"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
fi
cp "$qemu" "$root/usr/bin/qemu-aarch64-static"
# cpuinfo (XNNPACK) reads /sys/devices/system/cpu and /proc/cpuinfo; mounted for the run, unmounted on exit.
# qemu-user passes the HOST's /proc/cpuinfo through: x86 text that XNNPACK's arm64 feature probe mis-reads and
# then crashes on (SIGSEGV in allocate_tensors). A Pi's cpuinfo is bound over it and qemu emulates that CPU
# (QEMU_CPU), so the arm64 kernels chosen are the ones that Pi runs. The comparison runs as a Pi 5; step 5
# probes the Pi 4's CPU (mediapipe 1.2.3's aarch64 wheel needs ARMv8.1 LSE atomics, which a Cortex-A72 lacks).
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/sys" || mount -t sysfs sysfs "$root/sys"
trap 'umount "$root/proc/cpuinfo" "$root/proc" "$root/sys" 2>/dev/null || true' EXIT
# cpuinfo_for PART FEATURES MODEL: what the kernel of that Pi shows (2 cores are enough here).
cpuinfo_for() {
  for i in 0 1; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' "$i" "$2"
    printf 'CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 3\n\n' "$1"
  done
  printf 'Model\t\t: %s (emulated)\n' "$3"
}
# Pi 5: Cortex-A76 (ARMv8.2-A, has LSE atomics). Pi 4: Cortex-A72 (ARMv8.0-A, no LSE).
cpuinfo_for 0xd0b "fp asimd evtstrm crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" \
  "Raspberry Pi 5 Model B" >"$work/cpuinfo-pi5"
cpuinfo_for 0xd08 "fp asimd evtstrm crc32 cpuid" "Raspberry Pi 4 Model B" >"$work/cpuinfo-pi4"
cp "$work/cpuinfo-pi5" "$work/cpuinfo"
mount --bind "$work/cpuinfo" "$root/proc/cpuinfo"
export QEMU_CPU=cortex-a76
# The environment passes through qemu to the guest (no arm64 /usr/bin/env: exec would need binfmt).
run_arm() { PYTHONPATH=/opt/ct/site:/opt/ct PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \
  nice chroot "$root" /usr/bin/qemu-aarch64-static "/usr/bin/python$pyver" "$@"; }
say "arm64 interpreter: $(run_arm -c 'import platform,sys; print(platform.machine(), sys.version.split()[0])')"

# 2. The locked aarch64 wheels: downloaded with their hashes checked, installed into /opt/ct/site.
lock=requirements.lock
[ $tests -eq 1 ] && lock=requirements-dev.lock
wheels="$work/wheels"
TARGETS="aarch64:$pyver" tools/lock_check.sh "$lock" "$wheels"
plats=(--platform manylinux2014_aarch64)
for minor in $(seq 17 36); do plats+=(--platform "manylinux_2_${minor}_aarch64"); done
rm -rf "$root/opt/ct"
mkdir -p "$root/opt/ct/site"
say "installing $lock (aarch64, $cptag) into the arm64 userland"
.venv/bin/python -m pip install --disable-pip-version-check -q --no-index --find-links "$wheels/aarch64-$cptag" \
  --require-hashes --no-deps --only-binary=:all: "${plats[@]}" --python-version "$pyver" --implementation cp \
  --target "$root/opt/ct/site" -r "$lock"
cp -r terminal bench tests examples pyproject.toml config.example.toml "$root/opt/ct/"
mkdir -p "$root/opt/ct/models"
cp models/*.tflite models/*.task models/manifest.json "$root/opt/ct/models/"

# 3. The sample: the first N frames of several gate classes (passing, dark, turned, eyes closed, glasses, none).
sample="$root/opt/ct/sample"
mkdir -p "$sample"
for cls in ok TOO_DARK POSE_YAW EYES_CLOSED OCCLUDED_GLASSES NO_FACE; do
  find "$shared/data/quality/$cls" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | sort | sed -n "1,${per_class}p" |
    while read -r f; do cp "$f" "$sample/${cls}__$(basename "$f")"; done
done
say "sample: $(ls "$sample" | wc -l) frames"
# The shared portraits some of the unit tests below use (tests/support/shared.py: ../shared of the checkout).
mkdir -p "$root/opt/shared/data/conditions"
cp -r "$shared/data/conditions/single_face" "$root/opt/shared/data/conditions/"

# 4. The same script on both architectures, then the comparison.
say "x86-64 run"
nice .venv/bin/python bench/arm64_compare.py --frames "$sample" --models "$here/models" --out "$work/x86_64.json"
say "arm64 run (emulated)"
start=$(date +%s)
run_arm /opt/ct/bench/arm64_compare.py --frames /opt/ct/sample --models /opt/ct/models --out /opt/ct/arm64.json
cp "$root/opt/ct/arm64.json" "$work/aarch64-$suite.json"
say "arm64 run took $(( $(date +%s) - start )) s"
status=0
.venv/bin/python bench/arm64_compare.py --compare "$work/x86_64.json" "$work/aarch64-$suite.json" | tee "$work/compare.txt" || status=1

# 5. The Pi 4's CPU: does the gate (MediaPipe) load and run at all?
say "Pi 4 CPU probe (cortex-a72, no LSE atomics)"
cp "$work/cpuinfo-pi4" "$work/cpuinfo"
probe='import numpy as np; from terminal.config import Config; from terminal.analysis.gate import QualityGate
cfg = Config.model_validate({"models": {"dir": "/opt/ct/models"}})
with QualityGate.from_config(cfg, mode="image") as g: print("pi4 gate ok:", g.analyze(np.zeros((240, 320, 3), np.uint8)).failures)
from terminal.matching.embedder import load_embedder; print("pi4 embedder ok:", load_embedder(cfg).dim)'
QEMU_CPU=cortex-a72 run_arm -c "$probe" 2>&1 | grep -aE "ok:|FATAL|Illegal|Error" | tee "$work/pi4_probe.txt" || true
cp "$work/cpuinfo-pi5" "$work/cpuinfo"

# 6. Broker-free unit tests that spawn no processes, under emulation.
if [ $tests -eq 1 ]; then
  say "unit tests on arm64 (no broker, no subprocesses)"
  cd "$root/opt/ct"
  run_arm -m pytest -q -p no:cacheprovider -x --rootdir /opt/ct -o addopts="" \
    /opt/ct/tests/light/test_devices.py /opt/ct/tests/light/test_rolling_shutter.py /opt/ct/tests/light/test_pwm.py \
    /opt/ct/tests/matching/test_align.py /opt/ct/tests/matching/test_decision.py /opt/ct/tests/test_config.py \
    2>&1 | tail -5 | tee "$work/tests.txt" || status=1
fi
exit $status
