#!/usr/bin/env bash
# Install the capture terminal as a systemd service on Raspberry Pi OS (Bookworm): code in /opt/terminal,
# the `terminal` system user, the unit, config, udev rules, boot fragment, hardware watchdog.
#   sudo firmware/install.sh                      install on this Pi (also: ./setup.sh --install-service)
#   firmware/install.sh --prefix DIR              install into DIR as if it were / (image building, tests)
#   firmware/install.sh --dry-run                 print every step, change nothing
# Options: --terminal-id ID  --camera BACKEND (picamera2)  --allow-net CIDR (repeatable: IP allow list)
#          --skip-venv (no .venv/pip/models in /opt/terminal)  --no-enable  --start
#          --kiosk (member screen: [kiosk] enabled in a new config; the kiosk unit is installed whenever the
#          config has [kiosk] enabled = true)
# Idempotent: an existing /etc/terminal/config.toml or credential is never overwritten.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=""; dry=0; skip_venv=0; enable=1; start=0
terminal_id=""; camera="picamera2"; allow_net=(); kiosk=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$(realpath -m "$2")"; shift ;;
    --dry-run) dry=1 ;;
    --skip-venv) skip_venv=1 ;;
    --no-enable) enable=0 ;;
    --start) start=1 ;;
    --kiosk) kiosk=1 ;;
    --terminal-id) terminal_id="$2"; shift ;;
    --camera) camera="$2"; shift ;;
    --allow-net) allow_net+=("$2"); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$prefix" = "/" ] && prefix=""
case "$camera" in picamera2|opencv|replay) ;; *) echo "install.sh: --camera must be picamera2, opencv or replay" >&2; exit 2 ;; esac
if [ -n "$terminal_id" ] && ! [[ "$terminal_id" =~ ^[A-Za-z0-9_-]{1,64}$ ]]; then
  echo "install.sh: --terminal-id must be 1-64 letters, digits, - or _" >&2; exit 2
fi

say() { printf '==> %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; [ $dry -eq 1 ] || "$@"; }
die() { echo "install.sh: error: $*" >&2; exit 1; }

if [ -z "$prefix" ] && [ $dry -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "installing into / needs root: sudo $0 $*"
fi
root="${prefix:-/}"
P="$prefix"  # prepended to every target path
is_pi=0
if [ -z "$prefix" ] && [ -r /proc/device-tree/model ] && tr -d '\0' </proc/device-tree/model | grep -q "Raspberry Pi"; then
  is_pi=1
fi

say "service user: terminal (groups video, gpio)"
run install -D -m 0644 "$src/systemd/terminal.sysusers.conf" "$P/etc/sysusers.d/terminal.conf"
if [ -n "$prefix" ]; then
  run systemd-sysusers --root="$root" "$P/etc/sysusers.d/terminal.conf"
else
  run systemd-sysusers /etc/sysusers.d/terminal.conf
fi

say "code: $src -> /opt/terminal"
run install -d -m 0755 "$P/opt/terminal"
# Only what the daemon needs; never the venv, git data, caches, recordings, non-commercial models, nor any
# state of a demo or test run (var/ holds the README demo's ref.json template, outbox and key).
excludes=(--exclude=./.venv --exclude=./.git --exclude='*/__pycache__' --exclude=./.mypy_cache
          --exclude=./.pytest_cache --exclude=./.ruff_cache --exclude='*.egg-info' --exclude='*NONCOMMERCIAL*'
          --exclude=./tests --exclude=./bench --exclude=./var --exclude='*.sqlite' --exclude='*.sqlite-*'
          --exclude='*.pem' --exclude='*.key')
if [ $dry -eq 1 ]; then
  printf '+ tar -C %s %s -cf - . | tar -C %s -xf -\n' "$src" "${excludes[*]}" "$P/opt/terminal"
else
  printf '+ tar -C %s ... -cf - . | tar -C %s -xf -\n' "$src" "$P/opt/terminal"
  tar -C "$src" "${excludes[@]}" --owner=0 --group=0 -cf - . | tar -C "$P/opt/terminal" --no-same-owner -xf -
  chmod -R u=rwX,go=rX "$P/opt/terminal"
fi
if [ $skip_venv -eq 0 ]; then
  [ -z "$prefix" ] || die "--prefix installs cannot build a venv (its paths would point into DIR): add --skip-venv"
  # setup.sh builds .venv (with Debian's picamera2 on a Pi) and provisions the models into /opt/terminal/models.
  run /opt/terminal/setup.sh
  # The unit runs with ProtectSystem=strict: byte-code cannot be written at run time, so compile it now.
  run /opt/terminal/.venv/bin/python -m compileall -q /opt/terminal/terminal
fi

say "systemd unit: /etc/systemd/system/terminal.service"
run install -D -m 0644 "$src/systemd/terminal.service" "$P/etc/systemd/system/terminal.service"
dropin="$P/etc/systemd/system/terminal.service.d/ip-allow.conf"
if [ ${#allow_net[@]} -gt 0 ]; then
  run install -d -m 0755 "$(dirname "$dropin")"
  if [ $dry -eq 0 ]; then
    printf '# Written by firmware/install.sh --allow-net: the broker network is the only peer.\n[Service]\nIPAddressDeny=any\nIPAddressAllow=localhost %s\n' \
      "${allow_net[*]}" >"$dropin"
  fi
  printf '+ write %s (IPAddressAllow=localhost %s)\n' "$dropin" "${allow_net[*]}"
fi
run install -D -m 0644 "$src/systemd/watchdog.conf" "$P/etc/systemd/system.conf.d/terminal-watchdog.conf"

say "config: /etc/terminal/config.toml (kept if present), credentials"
run install -D -m 0644 "$src/systemd/terminal.tmpfiles.conf" "$P/etc/tmpfiles.d/terminal.conf"
if [ -e "$P/etc/terminal/config.toml" ]; then
  echo "    /etc/terminal/config.toml exists: kept"
else
  run install -d -m 0750 "$P/etc/terminal"
  sed_args=(-e "s/^backend = \"replay\"/backend = \"$camera\"/")
  [ -n "$terminal_id" ] && sed_args+=(-e "s/^id = \"terminal-dev\"/id = \"$terminal_id\"/")
  # --kiosk: the first "enabled = false" after [kiosk] (the member screen) becomes true.
  [ $kiosk -eq 1 ] && sed_args+=(-e '/^\[kiosk\]/,/^enabled = /s/^enabled = false/enabled = true/')
  printf '+ sed %s config.example.toml > %s\n' "${sed_args[*]}" "$P/etc/terminal/config.toml"
  [ $dry -eq 1 ] || sed "${sed_args[@]}" "$src/config.example.toml" >"$P/etc/terminal/config.toml"
fi
# Ownership and modes of /etc/terminal, an empty root-only mqtt_password credential if none exists.
if [ -n "$prefix" ]; then
  # systemd-tmpfiles --root still resolves names through the host's NSS: give it DIR's numeric gid.
  gid="$(awk -F: '$1 == "terminal" {print $3}' "$P/etc/group" 2>/dev/null || true)"
  [ -n "$gid" ] || gid=terminal  # dry run: the user was not created
  printf '+ sed "s/ terminal / %s /" %s | systemd-tmpfiles --root=%s --create -\n' "$gid" "$P/etc/tmpfiles.d/terminal.conf" "$root"
  [ $dry -eq 1 ] || sed "s/ terminal / $gid /" "$P/etc/tmpfiles.d/terminal.conf" | systemd-tmpfiles --root="$root" --create -
else
  run systemd-tmpfiles --create /etc/tmpfiles.d/terminal.conf
fi

# The member screen: installed when the config (new or kept) enables it; cage + Chromium as terminal-kiosk.
kiosk_port=""
if [ -f "$P/etc/terminal/config.toml" ]; then
  kiosk_port="$(python3 - "$P/etc/terminal/config.toml" <<'PY'
import sys, tomllib
k = tomllib.load(open(sys.argv[1], "rb")).get("kiosk", {})
print(int(k.get("port", 8080)) if k.get("enabled") else "")
PY
)" || die "cannot read [kiosk] from /etc/terminal/config.toml"
elif [ $kiosk -eq 1 ]; then
  kiosk_port=8080  # dry run: the config was not written
fi
if [ -n "$kiosk_port" ]; then
  say "member screen: terminal-kiosk.service (cage + Chromium on tty7, page on 127.0.0.1:$kiosk_port)"
  # Debian 12's cage (0.1.4) refuses to start without the Xwayland binary.
  if [ -z "$prefix" ] && [ $dry -eq 0 ] && ! { command -v cage >/dev/null && command -v chromium >/dev/null \
      && command -v Xwayland >/dev/null; }; then
    run apt-get install -y --no-install-recommends cage xwayland chromium fonts-dejavu-core
  fi
  run install -D -m 0644 "$src/systemd/terminal-kiosk.sysusers.conf" "$P/etc/sysusers.d/terminal-kiosk.conf"
  if [ -n "$prefix" ]; then
    run systemd-sysusers --root="$root" "$P/etc/sysusers.d/terminal-kiosk.conf"
  else
    run systemd-sysusers /etc/sysusers.d/terminal-kiosk.conf
  fi
  run install -D -m 0644 "$src/systemd/terminal-kiosk.service" "$P/etc/systemd/system/terminal-kiosk.service"
  kdrop="$P/etc/systemd/system/terminal-kiosk.service.d/url.conf"
  run install -d -m 0755 "$(dirname "$kdrop")"
  printf '+ write %s (KIOSK_URL=http://127.0.0.1:%s/)\n' "$kdrop" "$kiosk_port"
  [ $dry -eq 1 ] || printf '# Written by firmware/install.sh from [kiosk] port.\n[Service]\nEnvironment=KIOSK_URL=http://127.0.0.1:%s/\n' \
    "$kiosk_port" >"$kdrop"
fi

say "signing key: /etc/terminal/credentials/terminal_key (kept if present; systemd credential terminal_key)"
key="$P/etc/terminal/credentials/terminal_key"
if [ -e "$key" ]; then
  echo "    $key exists: kept"
else
  printf '+ openssl genpkey -algorithm ed25519 -out %s (0600)\n' "$key"
  if [ $dry -eq 0 ]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$key.tmp" && mv "$key.tmp" "$key")
  fi
fi
if [ $dry -eq 0 ]; then
  say "enrol this public key for terminal ${terminal_id:-<id>} at the central system (also: terminal keys show):"
  openssl pkey -in "$key" -pubout
fi

say "udev rules: /etc/udev/rules.d/60-terminal.rules"
run install -D -m 0644 "$src/firmware/60-terminal.rules" "$P/etc/udev/rules.d/60-terminal.rules"
if [ -z "$prefix" ] && command -v udevadm >/dev/null; then
  run udevadm control --reload
  run udevadm trigger --subsystem-match=video4linux --subsystem-match=media --subsystem-match=dma_heap \
    --subsystem-match=gpio --subsystem-match=pwm
fi

boot="$P/boot/firmware"
if [ -n "$prefix" ] || [ $is_pi -eq 1 ]; then
  say "boot: $boot/terminal.txt, included from config.txt (reboot to apply)"
  run install -D -m 0644 "$src/firmware/config.txt" "$boot/terminal.txt"
  if [ -f "$boot/config.txt" ] && grep -qx 'include terminal.txt' "$boot/config.txt"; then
    echo "    config.txt already includes terminal.txt"
  else
    printf '+ append "include terminal.txt" to %s\n' "$boot/config.txt"
    [ $dry -eq 1 ] || printf '\n# Capture terminal (firmware/install.sh)\n[all]\ninclude terminal.txt\n' >>"$boot/config.txt"
  fi
else
  say "boot: not a Raspberry Pi, boot fragment skipped"
fi

say "enable"
if [ -n "$prefix" ]; then
  [ $enable -eq 0 ] || run systemctl --root="$root" enable terminal.service
  [ $enable -eq 0 ] || [ -z "$kiosk_port" ] || run systemctl --root="$root" enable terminal-kiosk.service
else
  run systemctl daemon-reload
  [ $enable -eq 0 ] || run systemctl enable terminal.service
  [ $enable -eq 0 ] || [ -z "$kiosk_port" ] || run systemctl enable terminal-kiosk.service
  [ $start -eq 0 ] || run systemctl restart terminal.service
  [ $start -eq 0 ] || [ -z "$kiosk_port" ] || run systemctl restart terminal-kiosk.service
fi
say "done. Next: edit /etc/terminal/config.toml ([mqtt] brokers and username, [terminal] id, [security]"
say "central_public_keys), put the broker password in /etc/terminal/credentials/mqtt_password,"
say "check with: terminal config check; then: systemctl start terminal; journalctl -u terminal -f"
