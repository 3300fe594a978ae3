"""Event-based waits for tests: poll a condition instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait(pred: Callable[[], object], timeout: float = 10.0) -> bool:
    """True as soon as ``pred()`` is truthy; after ``timeout`` seconds, its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return bool(pred())
