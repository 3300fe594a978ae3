"""Re-create the seccomp part of systemd/terminal.service with libseccomp, then exec a command inside it.

Usage: python -m tests.daemon.sandbox -- PROGRAM ARGS...

Mirrors systemd 252's filters for the unit's settings, each as its own stacked seccomp filter (as systemd
installs them; the kernel applies the strictest verdict):
  SystemCallFilter=@system-service + SystemCallFilter=~@privileged @resources, SystemCallErrorNumber=EPERM
  MemoryDenyWriteExecute=yes  (mmap W+X, mprotect/pkey_mprotect +X, shmat SHM_EXEC -> EPERM)
  RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6  (socket() of any other family -> EAFNOSUPPORT)
The syscall groups come from ``systemd-analyze syscall-filter`` so they match the installed systemd.
Like systemd, the filters are loaded before execve(), so the whole interpreter start runs inside them.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import subprocess
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4
SCMP_CMP_MASKED_EQ = 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
SHM_EXEC = 0o100000
ALLOWED_FAMILIES = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6}
AF_MAX = 46


def scmp_act_errno(code: int) -> int:
    """libseccomp's SCMP_ACT_ERRNO(code)."""
    return 0x00050000 | (code & 0xFFFF)


class ArgCmp(ctypes.Structure):
    """struct scmp_arg_cmp."""

    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def syscall_group(name: str, seen: set[str] | None = None) -> set[str]:
    """The syscalls of a systemd group (``@system-service``), nested groups expanded."""
    seen = set() if seen is None else seen
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True)
    calls: set[str] = set()
    for line in out.stdout.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if item.startswith("@"):
            if item not in seen:
                seen.add(item)
                calls |= syscall_group(item, seen)
        else:
            calls.add(item)
    return calls


class Filter:
    """One libseccomp filter context."""

    def __init__(self, lib: ctypes.CDLL, default_action: int) -> None:
        self.lib = lib
        self.ctx = lib.seccomp_init(ctypes.c_uint32(default_action))
        if not self.ctx:
            raise OSError("seccomp_init failed")

    def rule(self, action: int, name: str, *cmps: tuple[int, int, int, int]) -> bool:
        """Add a rule; False when this architecture has no such syscall."""
        nr = self.lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            return False
        arr = (ArgCmp * max(1, len(cmps)))(*[ArgCmp(*c) for c in cmps])
        rc = self.lib.seccomp_rule_add_array(self.ctx, ctypes.c_uint32(action), nr, len(cmps), arr)
        if rc < 0:
            raise OSError(-rc, f"seccomp_rule_add({name}) failed")
        return True

    def load(self) -> None:
        """Load into the kernel (sets no_new_privs, as NoNewPrivileges=yes does) and free the context."""
        rc = self.lib.seccomp_load(self.ctx)
        self.lib.seccomp_release(self.ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load failed")


def install() -> None:
    """Load the three filters of terminal.service into this process (allow list last, as systemd does)."""
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(ArgCmp),
    ]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    mdwe = Filter(lib, SCMP_ACT_ALLOW)
    wx = PROT_WRITE | PROT_EXEC
    mdwe.rule(scmp_act_errno(errno.EPERM), "mmap", (2, SCMP_CMP_MASKED_EQ, wx, wx))
    mdwe.rule(scmp_act_errno(errno.EPERM), "mprotect", (2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
    mdwe.rule(scmp_act_errno(errno.EPERM), "pkey_mprotect", (2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
    mdwe.rule(scmp_act_errno(errno.EPERM), "shmat", (2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
    mdwe.load()

    families = Filter(lib, SCMP_ACT_ALLOW)
    for family in range(AF_MAX):
        if family not in ALLOWED_FAMILIES:
            families.rule(scmp_act_errno(errno.EAFNOSUPPORT), "socket", (0, SCMP_CMP_EQ, family, 0))
    families.load()

    # Last, as systemd does: the allow list does not contain seccomp() itself.
    allowed = syscall_group("@system-service") - syscall_group("@privileged") - syscall_group("@resources")
    calls = Filter(lib, scmp_act_errno(errno.EPERM))
    for name in sorted(allowed):
        calls.rule(SCMP_ACT_ALLOW, name)
    calls.load()


def main(argv: list[str]) -> int:
    """Install the filters and exec the command after ``--``."""
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: python -m tests.daemon.sandbox -- PROGRAM ARGS...", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    install()
    os.execvp(command[0], command)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
