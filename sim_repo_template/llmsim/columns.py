"""Named columns of equal length: a trace, or the per-request metrics, as a run holds them.

A run needs only numpy; pandas is loaded when a caller asks for a DataFrame (`frame()`), because
importing it cost a benchmark run a quarter of its CPU time. Public functions that return DataFrames
(`read_trace`, `generate_trace`, `request_metrics`, `load_workload`) build them from these columns, so
both forms hold the same numbers, dtypes and column order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def column(values: Iterable[Any]) -> np.ndarray:
    """A column from Python values, typed as pandas would type it: int64 for ints, float64 for floats,
    float64 with NaN where a value is None."""
    array = np.asarray(values if isinstance(values, np.ndarray) else list(values))
    if array.dtype == object:
        array = array.astype(float)
    return array


class Columns:
    """An ordered set of named, equal-length numpy columns (`attrs`: facts about the whole table)."""

    def __init__(self, data: dict[str, np.ndarray], attrs: dict | None = None) -> None:
        self.data = data
        self.attrs = dict(attrs or {})

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self.data[name] = values

    def __contains__(self, name: object) -> bool:
        return name in self.data

    def __len__(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def keys(self) -> list[str]:
        return list(self.data)

    def select(self, names: list[str]) -> Columns:
        return Columns({name: self.data[name] for name in names}, self.attrs)

    def take(self, rows: np.ndarray) -> Columns:
        """The rows at `rows` (indices or a boolean mask), in that order."""
        return Columns({name: values[rows] for name, values in self.data.items()}, self.attrs)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.data)
        frame.attrs.update(self.attrs)
        return frame
