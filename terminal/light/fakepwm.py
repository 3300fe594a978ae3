"""A fake /sys/class/pwm in a directory, for tests and for trying the sysfs_pwm driver off a Pi.

Like the kernel: ``pwmchipN/npwm``, ``export``/``unexport``; writing a channel number to ``export`` makes
``pwmK/{period,duty_cycle,enable,polarity}`` appear (after ``delay_s``, as udev's permission rule would), and
writing it to ``unexport`` removes them. A background thread plays the kernel; it records every state in which
``duty_cycle > period`` (the kernel would have refused that write with EINVAL) in ``violations``.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from types import TracebackType


class FakePWMSysfs:
    """``root/pwmchip{chip}`` with ``npwm`` channels, served by a thread until ``close()``."""

    def __init__(
        self, root: Path, chip: int = 0, npwm: int = 2, delay_s: float = 0.0, device: str = "fe20c000.pwm"
    ) -> None:
        self.root = root
        self.chip = root / f"pwmchip{chip}"
        self.chip.mkdir(parents=True, exist_ok=True)
        (self.chip / "npwm").write_text(f"{npwm}\n")
        (self.chip / "export").write_text("")
        (self.chip / "unexport").write_text("")
        dev = root / "devices" / device
        dev.mkdir(parents=True, exist_ok=True)
        if not (self.chip / "device").exists():
            (self.chip / "device").symlink_to(dev)
        self.npwm, self.delay_s = npwm, delay_s
        self.violations: list[str] = []
        self.exports: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-pwm-sysfs", daemon=True)
        self._thread.start()

    def channel(self, n: int) -> Path:
        """The directory of channel ``n`` (exists only while exported)."""
        return self.chip / f"pwm{n}"

    def state(self, n: int) -> dict[str, int]:
        """period, duty_cycle and enable of channel ``n`` as integers."""
        return {k: int((self.channel(n) / k).read_text() or 0) for k in ("period", "duty_cycle", "enable")}

    def _take(self, name: str) -> int | None:
        f = self.chip / name
        text = f.read_text().strip()
        if not text:
            return None
        f.write_text("")
        n = int(text)
        if not 0 <= n < self.npwm:
            self.violations.append(f"{name} {n}: no such channel (EINVAL)")
            return None
        return n

    def _serve(self) -> None:
        while not self._stop.is_set():
            n = self._take("export")
            if n is not None:
                time.sleep(self.delay_s)
                self.exports.append(n)
                d = self.channel(n)
                d.mkdir(exist_ok=True)
                for k in ("period", "duty_cycle", "enable"):
                    (d / k).write_text("0\n")
                (d / "polarity").write_text("normal\n")
            n = self._take("unexport")
            if n is not None:
                shutil.rmtree(self.channel(n), ignore_errors=True)
            for d in self.chip.glob("pwm[0-9]*"):
                try:
                    s = {k: int((d / k).read_text() or 0) for k in ("period", "duty_cycle")}
                except (OSError, ValueError):
                    continue
                if s["duty_cycle"] > s["period"]:
                    self.violations.append(f"{d.name}: duty_cycle {s['duty_cycle']} > period {s['period']}")
            time.sleep(0.002)

    def close(self) -> None:
        """Stop the serving thread."""
        self._stop.set()
        self._thread.join(timeout=2)

    def __enter__(self) -> FakePWMSysfs:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
