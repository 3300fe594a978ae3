"""PWM light waveforms and a rolling-shutter camera that integrates them row by row.

A rolling shutter exposes row ``r`` of frame ``k`` over ``[k * frame_us + r * line_us, ... + exposure_us]``.
The light the row collects is the PWM on-time inside that window. With a crystal-clocked PWM whose period
divides the exposure, every window holds exactly ``exposure / period`` whole periods: every row and every frame
gets ``duty * exposure``, whatever the phase. Otherwise each row also collects a fraction of one period that
depends on its phase (bands that crawl from frame to frame), and a software PWM adds edge jitter and stalls
(the thread that times the edges is late when the landmarker holds the cores), i.e. random on-times.

Models:
- ``HardwarePWM(hz, duty)``: exact edges.
- ``SoftwarePWM(hz, duty, ...)``: gpiozero/lgpio software PWM. Each edge is late by a wake-up latency
  (exponential, mean ``jitter_us``) and, with probability ``stall_p``, by a scheduling stall (exponential, mean
  ``stall_us``). The defaults (20 µs, 2% of edges, 300 µs) are assumptions for a loaded Pi 4, not measurements:
  ``sensitivity`` in the tests shows the conclusion holds for much milder values too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HardwarePWM:
    """Exact PWM: on for ``duty`` of each period from ``phase_us`` on."""

    hz: float
    duty: float
    phase_us: float = 0.0

    def on_time(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Microseconds of light in each window [t0, t1) (closed form, any number of windows)."""
        period = 1e6 / self.hz
        on = self.duty * period

        def cumulative(t: np.ndarray) -> np.ndarray:
            x = t - self.phase_us
            k = np.floor(x / period)
            return k * on + np.minimum(x - k * period, on)

        return cumulative(t1) - cumulative(t0)


@dataclass
class SoftwarePWM:
    """Software-timed PWM: every edge late by latency, some by a stall; periods scheduled on absolute times."""

    hz: float
    duty: float
    jitter_us: float = 20.0
    stall_p: float = 0.02
    stall_us: float = 300.0
    seed: int = 0
    phase_us: float = 0.0

    def edges(self, span_us: float) -> tuple[np.ndarray, np.ndarray]:
        """(rise, fall) times of every pulse in [0, span_us + one period]."""
        period = 1e6 / self.hz
        rng = np.random.default_rng(self.seed)
        n = int(np.ceil(span_us / period)) + 2
        nominal = self.phase_us + np.arange(-1, n - 1) * period

        def late(size: int) -> np.ndarray:
            delay = rng.exponential(self.jitter_us, size)
            stall = rng.random(size) < self.stall_p
            return delay + stall * rng.exponential(self.stall_us, size)

        rise = nominal + late(n)
        fall = nominal + self.duty * period + late(n)
        fall = np.maximum(fall, rise)  # a fall that comes "before" its rise is a pulse of zero length
        fall = np.minimum(fall, np.append(rise[1:], np.inf))  # the next rise ends any overrun
        return rise, fall

    def on_time(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Microseconds of light in each window [t0, t1) from the explicit edges."""
        rise, fall = self.edges(float(np.max(t1)))
        length = fall - rise
        before = np.concatenate([[0.0], np.cumsum(length)])

        def cumulative(t: np.ndarray) -> np.ndarray:
            i = np.searchsorted(rise, t, side="right") - 1
            i = np.clip(i, 0, len(rise) - 1)
            return before[i] + np.clip(t - rise[i], 0.0, length[i])

        return cumulative(t1) - cumulative(t0)


@dataclass
class RollingShutter:
    """Row timing of a rolling-shutter sensor: rows read ``line_us`` apart, frames ``frame_us`` apart."""

    rows: int = 480
    line_us: float = 60.0
    exposure_us: float = 10000.0
    frame_us: float = 1e6 / 30

    def row_light(self, wave: HardwarePWM | SoftwarePWM, frames: int) -> np.ndarray:
        """(frames, rows): each row's light relative to steady light at the same mean (``duty * exposure``)."""
        start = np.arange(frames)[:, None] * self.frame_us + np.arange(self.rows)[None, :] * self.line_us
        light = wave.on_time(start, start + self.exposure_us)
        return np.asarray(light / (wave.duty * self.exposure_us), dtype=np.float64)


def banding(rows: np.ndarray) -> float:
    """Row-to-row banding: mean over frames of the rows' relative standard deviation within the frame."""
    per_frame = rows.std(axis=1) / np.maximum(rows.mean(axis=1), 1e-12)
    return float(per_frame.mean())


def frame_variation(rows: np.ndarray) -> float:
    """Frame-to-frame variation: relative standard deviation of the frames' mean brightness."""
    means = rows.mean(axis=1)
    return float(means.std() / max(float(means.mean()), 1e-12))


def flicker_figures(rows: np.ndarray) -> dict[str, float]:
    """Banding and frame-to-frame variation (fractions) of a (frames, rows) light array."""
    return {"banding": banding(rows), "frame_variation": frame_variation(rows)}
