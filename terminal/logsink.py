"""Where the terminal's log lines go: syslog priorities (sd-daemon(3)) and whether stderr is the journal.

The one priority map: the journald native handler (terminal.daemon.journal) sends it as PRIORITY=, the
stderr formatter under systemd (terminal.logsetup) as a ``<N>`` prefix.
"""

from __future__ import annotations

import logging
import os
import sys

# syslog priorities; journald stores them as PRIORITY.
PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def priority_of(levelno: int) -> int:
    """The syslog priority for a logging level (custom levels round to the next standard one)."""
    if levelno in PRIORITY:
        return PRIORITY[levelno]
    for level in sorted(PRIORITY):
        if levelno <= level:
            return PRIORITY[level]
    return 2


def under_journald() -> bool:
    """True when stderr is connected to the journal (systemd sets JOURNAL_STREAM)."""
    stream = os.environ.get("JOURNAL_STREAM")
    if not stream:
        return False
    try:
        dev, ino = (int(x) for x in stream.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return st.st_dev == dev and st.st_ino == ino
