"""The mean best-trusted-so-far curve of a method across its repeats, with a 90% band: the shaded curves
of the paper's Figs. 7 and 8. One home for that arithmetic, drawn by the PNG figures
(`glia.compare.figures`) and the viewer's comparison page (`glia.web.comparison`) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from glia.compare.results import value_at
from glia.evaluation.stats import bootstrap_mean_ci

CURVE_RESAMPLES = 2_000


@dataclass(frozen=True)
class BandPoint:
    """After `x` simulations: the mean over the repeats that have a trusted design by then, its 90%
    interval (the mean itself while fewer than two have one), and how many repeats it is over."""

    x: int
    mean: float
    low: float
    high: float
    repeats: int


def mean_band(curves: Sequence[Sequence[tuple[int, float]]], end: int) -> list[BandPoint]:
    """Each simulation count from 0 to `end` at which some repeat has a trusted design."""
    band = []
    for x in range(0, end + 1):
        values = [v for curve in curves if (v := value_at(list(curve), x)) is not None]
        if not values:
            continue
        mean = sum(values) / len(values)
        low, high = bootstrap_mean_ci(values, resamples=CURVE_RESAMPLES) if len(values) >= 2 else (mean, mean)
        band.append(BandPoint(x, mean, low, high, len(values)))
    return band
