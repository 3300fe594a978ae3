"""The daemon's camera supervisor: backoff on failure, reopen, timestamps that never go back."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from terminal.camera.base import FrameSource
from terminal.camera.frame import Frame
from terminal.camera.recording import RecordingWriter
from terminal.camera.replay import ReplaySource
from terminal.daemon.camera_supervisor import CameraSupervisor
from terminal.errors import SourceError


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def recording(tmp_path: Path, n: int = 3) -> Path:
    out = tmp_path / "rec"
    with RecordingWriter(out) as rec:
        for i in range(n):
            rec.write(Frame(np.full((16, 16, 3), 40 * i, np.uint8), i / 10, i))
    return out


def test_replay_end_reopens_with_increasing_timestamps(tmp_path: Path) -> None:
    rec = recording(tmp_path)
    clock = Clock()
    sup = CameraSupervisor(lambda: ReplaySource(rec), retry_min_s=1.0, retry_max_s=4.0, clock=clock)
    ts = []
    for _ in range(3):
        f = sup.read()
        assert f is not None
        ts.append(f.timestamp)
    assert sup.read() is None  # the recording ended: down, not an exception
    assert sup.describe()["state"] == "down" and "ended" in sup.describe()["error"]
    assert sup.read() is None and sup.retry_in() == 1.0  # no reopen before the delay
    clock.t += 1.0
    for _ in range(3):
        f = sup.read()
        assert f is not None
        ts.append(f.timestamp)
    assert all(b > a for a, b in itertools.pairwise(ts)), ts
    assert sup.describe()["state"] == "up"


def test_open_failures_back_off_and_recover() -> None:
    clock = Clock()
    attempts: list[float] = []

    class Flaky(FrameSource):
        def _start(self) -> None:
            attempts.append(clock.t)
            if len(attempts) < 4:
                raise SourceError("camera /dev/video0: cannot open")

        def _stop(self) -> None:
            pass

        def _read(self) -> Frame | None:
            return Frame(np.zeros((4, 4, 3), np.uint8), clock.t, 0)

    sup = CameraSupervisor(Flaky, retry_min_s=1.0, retry_max_s=3.0, clock=clock)
    delays = []
    while sup.read() is None:
        delays.append(sup.retry_in())
        clock.t += sup.retry_in()
    assert delays == [1.0, 2.0, 3.0]  # doubling, capped at retry_max_s
    assert len(attempts) == 4 and sup.failures == 3
    assert sup.describe()["state"] == "up"
