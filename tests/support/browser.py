"""Real headless Chromium (Debian's chromium + chromedriver) driven by selenium, for the member screen.

Under CI=true a missing browser fails the test instead of skipping it: the screen must be tested in CI.
Each driver gets a fresh profile directory and its own chromedriver port (other developers run Chromium too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TERMINAL_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TERMINAL_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def require_chromium() -> None:
    """Skip (laptop) or fail (CI=true) when chromium, chromedriver or selenium are missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).exists() or shutil.which(p))]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip, requirements-dev.txt)")
    if missing:
        msg = f"browser tests need {', '.join(missing)} (./setup.sh --dev installs chromium and chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@contextlib.contextmanager
def chromium(profile: Path, width: int = 800, height: int = 480) -> Iterator[Any]:
    """A headless Chromium window of ``width`` x ``height`` CSS pixels with a fresh profile."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in [*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
        opts.add_argument(f)
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER, port=0))
    try:
        resize(driver, width, height)
        yield driver
    finally:
        driver.quit()


def resize(driver: Any, width: int, height: int) -> None:
    """Make the viewport exactly ``width`` x ``height`` (window sizes include the browser's own frame)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if inner != [width, height]:
        driver.set_window_size(width + width - inner[0], height + height - inner[1])


def wait_until(fn: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll ``fn`` until it returns something truthy; AssertionError naming ``what`` on timeout."""
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


PAGE_STATE_JS = """return {state: document.body.dataset.state,
  instruction: document.getElementById('instruction').textContent,
  liveness: document.getElementById('liveness').hidden ? null : document.getElementById('liveness').textContent,
  reason: document.getElementById('reason').hidden ? null : document.getElementById('reason').textContent,
  oval: document.getElementById('oval').className, stats: window.kioskStats};"""

SMALLEST_TEXT_JS = """let smallest = 1e9, where = null;
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || r.width === 0 || r.height === 0 || cs.visibility === 'hidden') continue;
  const px = parseFloat(cs.fontSize);
  if (px < smallest) { smallest = px; where = el.id || el.tagName; }
}
return [smallest, where];"""
