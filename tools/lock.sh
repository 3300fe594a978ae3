#!/usr/bin/env bash
# Regenerate the hash locks from requirements.txt / requirements-dev.txt (one command, after any pin change):
#   tools/lock.sh            -> requirements.lock (runtime) and requirements-dev.lock (runtime + tests)
#   tools/lock.sh --check    -> exit 1 if the locks are out of date (nothing written)
# One universal lock per set covers every target: x86-64 and aarch64 (Pi 4/5), Python 3.11 (Bookworm) and
# 3.13 (Trixie). uv writes every file's sha256 of each locked version; setup.sh installs with --require-hashes.
# tools/lock_check.sh proves the aarch64 wheels exist (pip download --only-binary=:all: --require-hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}
[ -x "$uv" ] || uv=$(command -v uv) || { echo "lock.sh: uv not found: ./setup.sh --dev installs it" >&2; exit 1; }
check=0
[ "${1:-}" = "--check" ] && check=1
status=0
for pair in requirements.txt:requirements.lock requirements-dev.txt:requirements-dev.lock; do
  src=${pair%%:*}; out=${pair##*:}
  tmp=$(mktemp)
  # uv keeps the versions already in the output file unless a requirement forces a change: start from the
  # current lock, so regenerating after adding one dependency moves nothing else.
  [ -f "$out" ] && cp "$out" "$tmp"
  # --python-version 3.11 is the floor: universal markers cover 3.11 .. 3.13 and both architectures.
  "$uv" pip compile --quiet --universal --generate-hashes --python-version 3.11 \
    --index-url https://pypi.org/simple --custom-compile-command "tools/lock.sh" \
    --no-strip-markers "$src" -o "$tmp"
  if [ $check -eq 1 ]; then
    if ! diff -q <(grep -v '^#' "$tmp") <(grep -v '^#' "$out" 2>/dev/null) >/dev/null; then
      echo "lock.sh: $out is out of date with $src: run tools/lock.sh" >&2; status=1
    fi
    rm -f "$tmp"
  else
    mv "$tmp" "$out"; chmod 644 "$out"
    echo "$out: $(grep -c '^[A-Za-z0-9]' "$out") packages, $(grep -c -- '--hash=sha256:' "$out") hashes"
  fi
done
exit $status
