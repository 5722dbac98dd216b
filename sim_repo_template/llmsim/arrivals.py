"""Arrival times of a time-varying open-loop workload: a slow sinusoid between two rates.

The autoscaling study of the Glia paper drives the cluster with a long workload whose rate swings
slowly between 7.5 and 22.5 requests per second. Here the rate is

    rate(t) = mid - amp * cos(2 pi t / period),   mid = (low + high) / 2,   amp = (high - low) / 2,

so it starts at the trough (`low`), peaks at `high` half a period later and returns to `low` after a
full period. Arrivals form a non-homogeneous Poisson process with that rate, made by time rescaling: a
unit-rate Poisson process s_1 < s_2 < ... is drawn, and each s is mapped to the t with Lambda(t) = s,
where Lambda is the integral of the rate (strictly increasing, so Newton's method finds t). Individual
arrivals are therefore random (Poisson) while their density follows the sinusoid; the same seed gives
the same times. Times are kept at microsecond resolution, exactly as a trace file stores them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from llmsim.errors import WorkloadError


@dataclass(frozen=True)
class Sinusoid:
    """The rate curve: from `low` at t = 0 up to `high` at period / 2, back to `low` at `period`."""

    low: float
    high: float
    period: float

    def __post_init__(self) -> None:
        if not (0 < self.low <= self.high) or not self.period > 0:
            raise WorkloadError(
                f"a sinusoid needs 0 < low <= high and a positive period, got low={self.low}, "
                f"high={self.high}, period={self.period}"
            )

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2

    @property
    def amp(self) -> float:
        return (self.high - self.low) / 2

    def rate(self, t: np.ndarray | float) -> np.ndarray | float:
        return self.mid - self.amp * np.cos(2 * math.pi * np.asarray(t) / self.period)

    def integral(self, t: np.ndarray | float) -> np.ndarray | float:
        """Lambda(t): the expected number of arrivals in [0, t]."""
        w = 2 * math.pi / self.period
        return self.mid * np.asarray(t) - self.amp / w * np.sin(w * np.asarray(t))

    def invert(self, s: np.ndarray) -> np.ndarray:
        """The times t with Lambda(t) = s (Newton's method from the mean-rate guess; the rate is at
        least `low`, so Lambda is strictly increasing and the iteration converges quickly)."""
        t = s / self.mid
        for _ in range(50):
            step = (self.integral(t) - s) / self.rate(t)
            t = t - step
            if np.max(np.abs(step)) < 1e-9:
                break
        return t


def sinusoid_arrivals(rng: np.random.Generator, curve: Sinusoid, duration: float) -> np.ndarray:
    """Sorted arrival times in [0, duration] of the non-homogeneous Poisson process with `curve`."""
    if not duration > 0:
        raise WorkloadError(f"duration must be positive, got {duration}")
    total = float(curve.integral(duration))
    points: list[np.ndarray] = []
    last = 0.0
    while last <= total:  # draw unit-rate points in blocks until past Lambda(duration)
        block = last + np.cumsum(rng.exponential(1.0, int(total - last + 6 * math.sqrt(total) + 64)))
        points.append(block)
        last = float(block[-1])
    s = np.concatenate(points)
    s = s[s <= total]
    if s.size == 0:
        raise WorkloadError("the sinusoid workload has no arrival; use a longer duration or higher rates")
    times = np.minimum(curve.invert(s), duration)
    return np.array([float(f"{t:.6f}") for t in times])
