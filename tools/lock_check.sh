#!/usr/bin/env bash
# Prove the hash lock installs on every target without compiling anything: for each platform and Python,
# `pip download --only-binary=:all: --require-hashes -r LOCK` must find a wheel whose sha256 is in the lock for
# every package. Network (PyPI) needed; a few hundred MB per target.
#   tools/lock_check.sh [LOCK] [DEST]       default: requirements.lock, /var/tmp/lock-check
#   TARGETS="aarch64:3.11" tools/lock_check.sh      one target only
set -euo pipefail
cd "$(dirname "$0")/.."
lock=${1:-requirements.lock}
dest=${2:-/var/tmp/lock-check}
py=${PYTHON:-.venv/bin/python}
targets=${TARGETS:-"aarch64:3.11 aarch64:3.13 x86_64:3.11 x86_64:3.13"}
fail=0
for t in $targets; do
  arch=${t%%:*}; ver=${t##*:}
  out="$dest/$arch-cp${ver/./}"
  # Bookworm has glibc 2.36: every manylinux tag from 2.17 up to it installs there (pip does not expand them).
  plats=(--platform "manylinux2014_$arch")
  for minor in $(seq 17 36); do plats+=(--platform "manylinux_2_${minor}_$arch"); done
  mkdir -p "$out"
  # pip evaluates the lock's environment markers for the target interpreter given by --python-version.
  if "$py" -m pip download --disable-pip-version-check -q --only-binary=:all: --require-hashes \
      "${plats[@]}" --python-version "$ver" --implementation cp --index-url https://pypi.org/simple \
      -r "$lock" -d "$out" >"$out.log" 2>&1; then
    echo "lock_check: $lock $arch cp${ver/./}: OK, $(ls "$out" | wc -l) wheels"
  else
    echo "lock_check: $lock $arch cp${ver/./}: FAILED ($(grep -m1 -iE 'error|no matching' "$out.log"))"; fail=1
  fi
done
exit $fail
