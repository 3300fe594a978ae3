#!/usr/bin/env bash
# Demonstrates, with a REAL systemd (252) as PID 1, that terminal.service is killed by the systemd watchdog
# (SIGABRT) and restarted when its camera freezes. Not part of the pytest suite.
#
# How: systemd is booted as PID 1 of fresh PID/mount/UTS/IPC/network namespaces (like a container, with
# container=terminal-demo), on a private copy of /etc and private tmpfs /run, /tmp and /var, so nothing
# on the host changes. The real systemd/terminal.service is installed unchanged into that /etc copy, plus
# a drop-in (paths, WatchdogSec=3, RestartSec=1, DefaultDependencies=no). The camera is a replay
# recording of 24 frames (1 s at 24 fps) and a 25th frame file on which this script holds a write lease
# (fcntl F_SETLEASE): the daemon's open() of that frame blocks inside the camera's read() (until the
# lease is released, or the kernel's lease-break-time, 45 s by default), the daemon stops sending
# WATCHDOG=1, and systemd must kill and restart it. After the first restart the lease is released, so the
# restarted daemon runs healthy and must NOT be restarted again.
# (A FIFO as frame file, as tests/daemon/test_run.py uses, does not hang: read_image_rgb() checks
# is_file() first, the read fails, the camera is reopened, and the replay's timestamps restart below the
# last one, which the watchdog counts as a stale buffer. That also ends in a watchdog restart, but it is
# not a camera stuck inside read().)
#
# Usage: sudo bench/demo_systemd_watchdog.sh   (root; Debian 12 with systemd 252; cgroup v1/hybrid or v2)
# Env:   TERMINAL_DEMO_FRAMES  folder of JPEG frames (default ../shared/data/videos/blink_selfie/frames)
#        TERMINAL_DEMO_WORK    scratch directory (default /tmp/terminal-watchdog-demo; wiped and removed)
#        TERMINAL_DEMO_KEEP=1  keep the scratch directory (journal export, logs) for inspection
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FRAMES=${TERMINAL_DEMO_FRAMES:-$REPO/../shared/data/videos/blink_selfie/frames}
WORK=${TERMINAL_DEMO_WORK:-/tmp/terminal-watchdog-demo}
CG=terminal-watchdog-demo          # cgroup (v1 hierarchies / v2) the namespaced systemd lives under
SYSTEMD=/lib/systemd/systemd
WATCHDOG_SEC=3

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$SYSTEMD" ] || die "$SYSTEMD not found"
[ -x "$REPO/.venv/bin/terminal" ] || die "$REPO/.venv missing: run ./setup.sh first"
[ -d "$FRAMES" ] || die "frames folder $FRAMES missing (set TERMINAL_DEMO_FRAMES)"
command -v nsenter >/dev/null && command -v unshare >/dev/null || die "util-linux unshare/nsenter needed"

UNSHARE_PID=""
cgroup_dirs() {  # every cgroup directory of ours, deepest first
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -d "$h$CG" ] && find "$h$CG" -depth -type d
  done 2>/dev/null || true
}
cleanup() {
  local pid1=""
  [ -f "$WORK/lease.pid" ] && kill "$(cat "$WORK/lease.pid")" 2>/dev/null || true
  [ -f "$WORK/unshare.pid" ] && UNSHARE_PID=${UNSHARE_PID:-$(cat "$WORK/unshare.pid")}
  if [ -n "$UNSHARE_PID" ] && kill -0 "$UNSHARE_PID" 2>/dev/null; then
    pid1=$(ps -o pid= --ppid "$UNSHARE_PID" | tr -d ' ' | head -n1)
    # SIGKILL to a PID namespace's init kills every process in the namespace; its mounts go with it.
    [ -n "$pid1" ] && kill -KILL "$pid1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$UNSHARE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$UNSHARE_PID" 2>/dev/null || true
  fi
  for _ in $(seq 30); do  # cgroups empty out asynchronously after the kill
    local left=0
    while read -r d; do [ -n "$d" ] && { rmdir "$d" 2>/dev/null || left=1; }; done < <(cgroup_dirs)
    [ "$left" = 0 ] && break; sleep 0.2
  done
  if [ "${1:-}" = wipe ] || [ "${TERMINAL_DEMO_KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup wipe  # a previous run that was interrupted
trap cleanup EXIT

# ---------------------------------------------------------------- scratch: recording, config, /etc copy
mkdir -p "$WORK/data/frozen" "$WORK/etc"
chmod 700 "$WORK"  # holds a copy of /etc (shadow included); the service sees only data/, via a bind mount
chmod 755 "$WORK/data" "$WORK/data/frozen"  # the service runs as 'terminal' in a user namespace
"$REPO/.venv/bin/python" - "$FRAMES" "$WORK/data/frozen" <<'EOF'
import json, os, shutil, sys
from pathlib import Path
src, rec = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))[:24]
lines = []
for i, p in enumerate(files):
    shutil.copyfile(p, rec / f"{i:06d}.jpg")
    lines.append({"index": i, "file": f"{i:06d}.jpg", "timestamp": i / 24.0, "metadata": {}})
# Frame 24 is an ordinary JPEG; the script holds a write lease on it, so opening it blocks (frozen camera).
shutil.copyfile(files[-1], rec / "frozen.jpg")
lines.append({"index": 24, "file": "frozen.jpg", "timestamp": 24 / 24.0, "metadata": {}})
(rec / "frames.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
(rec / "recording.json").write_text(json.dumps({"format": "terminal-recording", "version": 1,
    "source": str(src), "created": "demo", "image_format": "jpg"}) + "\n")
for p in rec.iterdir():
    p.chmod(0o644)
EOF
cat >"$WORK/data/config.toml" <<EOF
[terminal]
id = "watchdog-demo"
[camera]
backend = "replay"
source = "/run/terminal-demo/frozen"
fps = 24.0
[mqtt]
enabled = false
[light]
pin_factory = "mock"
[models]
dir = "$REPO/models"
EOF
: >"$WORK/data/mqtt_password"
chmod 644 "$WORK/data/config.toml"; chmod 600 "$WORK/data/mqtt_password"

cp -a /etc/. "$WORK/etc/"
E=$WORK/etc
install -m 0644 "$REPO/systemd/terminal.service" "$E/systemd/system/terminal.service"  # unchanged
install -D -m 0644 "$REPO/systemd/terminal.sysusers.conf" "$E/sysusers.d/terminal.conf"
mkdir -p "$E/systemd/system/terminal.service.d"
cat >"$E/systemd/system/terminal.service.d/demo.conf" <<EOF
# Demo drop-in: code from $REPO, the demo config/credential, a short watchdog.
[Unit]
# No sysinit.target/basic.target: this 'container' shares the host's disk; early-boot units stay off.
DefaultDependencies=no
[Service]
ExecStartPre=
ExecStartPre=$REPO/.venv/bin/terminal config check /run/terminal-demo/config.toml
ExecStart=
ExecStart=$REPO/.venv/bin/terminal run --config /run/terminal-demo/config.toml
Environment=TERMINAL_CONFIG=/run/terminal-demo/config.toml
LoadCredential=
LoadCredential=mqtt_password:/run/terminal-demo/mqtt_password
WatchdogSec=$WATCHDOG_SEC
RestartSec=1
EOF
# A venv whose interpreter lives under /root (pyenv, as on this build machine; on a Pi it is /usr/bin/python3)
# cannot start with ProtectHome=yes: /root is hidden (and 0700). ProtectHome=tmpfs keeps every home empty
# but lets exactly the interpreter's tree back in, read-only.
PYHOME=$(sed -n 's/^home = //p' "$REPO/.venv/pyvenv.cfg")
case "$PYHOME" in
  /root/*|/home/*)
    PYROOT=$(echo "$PYHOME" | cut -d/ -f1-3)  # /root/.pyenv or /home/<user>
    cat >>"$E/systemd/system/terminal.service.d/demo.conf" <<EOF
# The venv's interpreter is under $PYROOT: ProtectHome=yes would hide it.
ProtectHome=tmpfs
BindReadOnlyPaths=$PYROOT
EOF
    ;;
esac
# The namespace boots into this target: just the journal, nothing else from the host's /etc.
cat >"$E/systemd/system/terminal-demo.target" <<'EOF'
[Unit]
Description=terminal watchdog demo (journal only)
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
After=systemd-journald.socket systemd-journald.service
AllowIsolate=yes
EOF

# ---------------------------------------------------------------- PID 1 of the namespaces
cat >"$WORK/pid1.sh" <<EOF
set -e
exec >"$WORK/pid1.log" 2>&1
mount --make-rprivate /
mount --bind "$WORK/etc" /etc
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mkdir -p /run/terminal-demo /run/lock
mount --bind "$WORK/data" /run/terminal-demo
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /var
mkdir -p /var/tmp /var/log/journal /var/lib /var/cache && chmod 1777 /var/tmp
ln -s /run /var/run; ln -s /run/lock /var/lock
systemd-sysusers /etc/sysusers.d/terminal.conf
hostname terminal-demo
exec env -i container=terminal-demo PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  $SYSTEMD --system --unit=terminal-demo.target --log-target=journal --show-status=no
EOF

# Our own cgroup, so the namespaced systemd takes it as its root and never touches the host's root cgroup.
join_cgroups() {
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [ -e "${h}cgroup.procs" ] || continue
    case "$h" in */memory/|*/cpu/|*/cpuacct/|*/cpuset/|*/blkio/|*/freezer/) continue ;; esac
    mkdir -p "$h$CG" && echo "$1" >"$h$CG/cgroup.procs"
  done
}

mkfifo "$WORK/go"
setsid bash -c 'echo $$ >"$1/unshare.pid"; read -r _ <"$1/go"; exec unshare --pid --fork --mount --mount-proc \
  --uts --ipc --net --propagation private bash "$1/pid1.sh"' _ "$WORK" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do [ -s "$WORK/unshare.pid" ] && break; sleep 0.1; done
UNSHARE_PID=$(cat "$WORK/unshare.pid")
join_cgroups "$UNSHARE_PID"
echo go >"$WORK/go"

PID1=""
for _ in $(seq 100); do
  PID1=$(ps -o pid= --ppid "$UNSHARE_PID" 2>/dev/null | tr -d ' ' | head -n1)
  [ -n "$PID1" ] && [ "$(cat /proc/"$PID1"/comm 2>/dev/null)" = systemd ] && break; sleep 0.1
done
[ "$(cat /proc/"$PID1"/comm 2>/dev/null)" = systemd ] || { cat "$WORK/pid1.log" >&2; die "systemd did not start"; }
in_ns() { nsenter --target "$PID1" --mount --pid --uts --ipc --net -- "$@"; }
for _ in $(seq 100); do
  st=$(in_ns systemctl is-system-running 2>/dev/null || true)
  case "$st" in running|degraded) break ;; esac; sleep 0.2
done
echo "== systemd $(in_ns systemctl --version | head -n1 | cut -d' ' -f2) is PID 1 of the namespace (host pid $PID1), state: $st"

# ---------------------------------------------------------------- the frozen frame: a write lease
# The holder ignores the lease-break signal (SIGIO) but writes the monotonic time it arrived: that is
# the instant the daemon's camera read blocked, on the same clock as the journal's monotonic timestamps.
setsid "$REPO/.venv/bin/python" - "$WORK/data/frozen/frozen.jpg" "$WORK/frozen_at" "$WORK/lease.pid" <<'EOF' &
import fcntl, os, signal, sys, time
F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)
def broken(*_):
    if not os.path.exists(sys.argv[2]):
        with open(sys.argv[2], "w") as f:
            f.write(f"{time.monotonic():.6f}\n")
signal.signal(signal.SIGIO, broken)
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, F_SETLEASE, fcntl.F_WRLCK)
with open(sys.argv[3], "w") as f:
    f.write(f"{os.getpid()}\n")
while True:
    signal.pause()
EOF
for _ in $(seq 50); do [ -s "$WORK/lease.pid" ] && break; sleep 0.1; done
LEASE_PID=$(cat "$WORK/lease.pid")
release_lease() { [ -n "${LEASE_PID:-}" ] && kill "$LEASE_PID" 2>/dev/null; wait "$LEASE_PID" 2>/dev/null || true; LEASE_PID=""; }

# ---------------------------------------------------------------- the demonstration
show() { in_ns systemctl show terminal.service -p "$1" --value; }
in_ns systemctl start --no-block terminal.service
for _ in $(seq 300); do [ "$(show ActiveState)" = active ] && break; sleep 0.1; done
[ "$(show ActiveState)" = active ] || { in_ns systemctl status terminal.service --no-pager >&2 || true; in_ns journalctl -b --no-pager | tail -n 40 >&2; die "terminal.service never became active"; }
T_ACTIVE=$(date +%s.%N)
sleep 0.3
N0=$(show NRestarts)
echo
echo "== READY=1 received: ActiveState=$(show ActiveState) SubState=$(show SubState) NRestarts=$N0 WatchdogUSec=$(show WatchdogUSec)"
echo "== StatusText (sd_notify STATUS=): $(show StatusText)"
echo "== systemctl status terminal:"
in_ns env SYSTEMD_COLORS=0 systemctl status terminal.service --no-pager --lines=0 | sed 's/^/   /'

# Wait for the first watchdog restart (freeze ~1 s after READY, then WatchdogSec=3, RestartSec=1, startup).
for _ in $(seq 600); do [ "$(show NRestarts)" -gt "$N0" ] && [ "$(show ActiveState)" = active ] && break; sleep 0.1; done
T_BACK=$(date +%s.%N)
N1=$(show NRestarts)
release_lease  # the camera "recovers": the restarted daemon must now stay up
echo
echo "== after the freeze: ActiveState=$(show ActiveState) NRestarts=$N0 -> $N1 (polled $(awk "BEGIN{printf \"%.1f\", $T_BACK - $T_ACTIVE}") s after the first READY)"
echo "== StatusText after restart: $(show StatusText)"
sleep $((3 * WATCHDOG_SEC))
N2=$(show NRestarts)
echo "== $((3 * WATCHDOG_SEC)) s later, camera healthy again: ActiveState=$(show ActiveState) NRestarts=$N2 StatusText: $(show StatusText)"
[ "$N1" -gt "$N0" ] || die "NRestarts did not increase"
[ "$N2" = "$N1" ] || die "the healthy daemon was restarted again"
echo
echo "== journalctl -u terminal (first start, watchdog kill, restart):"
in_ns journalctl -u terminal.service --no-pager -o short-precise \
  | grep -E 'Starting|Started|ready:|[Ww]atchdog|SIGABRT|Main process exited|Failed with result|Scheduled restart|camera|Current thread|File "/.*/terminal/' \
  | head -n 40 | sed 's/^/   /'

# Freeze-to-restart timing: journal monotonic timestamps against the instant the lease holder saw the block.
in_ns journalctl -u terminal.service -o json --no-pager >"$WORK/journal.json"
"$REPO/.venv/bin/python" - "$WORK/journal.json" "$WATCHDOG_SEC" "$WORK/frozen_at" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def t(r): return int(r["__MONOTONIC_TIMESTAMP"]) / 1e6
def msg(r):
    m = r.get("MESSAGE", "")
    return m if isinstance(m, str) else bytes(m).decode(errors="replace")
ready = next((t(r) for r in rows if msg(r).startswith("ready:")), None)
wd = next((t(r) for r in rows if "Watchdog timeout" in msg(r)), None)
kill = next((t(r) for r in rows if "SIGABRT" in msg(r)), None)
restarted = None
if wd is not None:
    restarted = next((t(r) for r in rows if t(r) > wd and msg(r).startswith("Started ")), None)
    ready2 = next((t(r) for r in rows if t(r) > wd and msg(r).startswith("ready:")), None)
if None in (ready, wd, restarted):
    sys.exit("demo: could not find ready / watchdog timeout / restart in the journal")
freeze = float(open(sys.argv[3]).read())
print(f"\n== timing (CLOCK_MONOTONIC; freeze = the daemon's open() of frame 24 broke the lease, {freeze - ready:.2f} s after READY)")
print(f"   freeze -> 'Watchdog timeout'      {wd - freeze:6.2f} s   (WatchdogSec={sys.argv[2]}; last ping up to WatchdogSec/2 before the freeze)")
if kill is not None:
    print(f"   freeze -> SIGABRT sent            {kill - freeze:6.2f} s")
print(f"   freeze -> 'Started' again          {restarted - freeze:6.2f} s   (incl. RestartSec=1 and ExecStartPre)")
if ready2 is not None:
    print(f"   freeze -> READY=1 again ('ready:') {ready2 - freeze:6.2f} s")
EOF
echo
echo "== demo OK: watchdog kill + restart observed; tearing the namespace down"
