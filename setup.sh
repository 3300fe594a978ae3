#!/usr/bin/env bash
# One-command, idempotent set-up of the capture terminal.
#   ./setup.sh            runtime: .venv with pinned packages, models provisioned (Pi: picamera2 from apt)
#   ./setup.sh --dev      also test tools and mosquitto/systemd (apt) for the integration tests
# Options: --models-from DIR (or TERMINAL_MODELS_FROM=DIR), --skip-models, --skip-apt
#   ./setup.sh --install-service [--prefix DIR] [--dry-run] ...   install as a systemd service (firmware/install.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
start=$(date +%s)
dev=0; skip_models=0; skip_apt=0
models_from="${TERMINAL_MODELS_FROM:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1 ;;
    --models-from) models_from="$2"; shift ;;
    --skip-models) skip_models=1 ;;
    --skip-apt) skip_apt=1 ;;
    --install-service) shift; exec "$here/firmware/install.sh" "$@" ;;  # systemd service on a Pi (firmware/install.sh --help)
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { echo "setup.sh: error: $*" >&2; exit 1; }

python=${PYTHON:-python3}
command -v "$python" >/dev/null || die "python3 not found: install it (apt-get install python3 python3-venv)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed"

is_pi=0
if [ -r /proc/device-tree/model ] && tr -d '\0' </proc/device-tree/model | grep -q "Raspberry Pi"; then
  is_pi=1
fi

sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
apt_pkgs=()
[ $is_pi -eq 1 ] && apt_pkgs+=(python3-picamera2 python3-libcamera python3-venv)
# chromium + chromium-driver: the member-screen tests; cage + xwayland: the kiosk command line under a headless
# compositor; espeak-ng + alsa-utils: voice prompts (also at run time).
[ $dev -eq 1 ] && apt_pkgs+=(mosquitto systemd chromium chromium-driver cage xwayland espeak-ng alsa-utils)
if [ ${#apt_pkgs[@]} -gt 0 ] && [ $skip_apt -eq 0 ]; then
  missing=()
  for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt: installing ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  if [ $is_pi -eq 1 ]; then
    # picamera2 and libcamera come from Debian; the venv must see them.
    "$python" -m venv --system-site-packages .venv
  else
    "$python" -m venv .venv
  fi
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
# Hash-locked: every package, transitive ones included, must match a sha256 in the lock (tools/lock.sh makes
# it from requirements*.txt; one universal lock for x86-64/aarch64 and Python 3.11/3.13).
lock=requirements.lock
[ $dev -eq 1 ] && lock=requirements-dev.lock
say "pip: installing $lock (hash-checked)"
"${pip[@]}" install --require-hashes -r "$lock" || die "pip could not install $lock (a wheel missing for this platform, or a hash mismatch: see above)"
# setuptools comes from the lock too: no unhashed build environment is fetched.
"${pip[@]}" install --no-deps --no-build-isolation -e .
if [ $is_pi -eq 1 ]; then
  say "picamera2: numpy-compiled dependencies into the venv, then the import check"
  "$here/firmware/picamera2_venv.sh" .venv/bin/python "$here/requirements.lock" || exit 1
fi

if [ $skip_models -eq 0 ]; then
  if [ -z "$models_from" ] && [ -d "$here/../shared/models" ]; then models_from="$here/../shared/models"; fi
  say "models: provisioning into models/ ${models_from:+(from $models_from)}"
  .venv/bin/python -m terminal.provision --into "$here/models" ${models_from:+--from "$models_from"}
fi

say "done in $(( $(date +%s) - start )) s. Try: .venv/bin/terminal --help"
