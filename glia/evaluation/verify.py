"""Checking one trusted simulation's result on the host, with code the design never touches.

The core writes `summary.json` (and, when the task names one, a per-request file) in its own sandbox,
where no design code runs. The host reads them back as data and checks them: the run says it is valid,
every request completed, every value the metric needs is a finite number, and each summary value the
task lists under `per_request.recompute` equals what the host recomputes from the per-request records.
Any doubt is a failure whose message says what went wrong.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from glia.evaluation.results import SeedResult
from glia.metric import Metric
from glia.task import Aggregate, PerRequestCheck

RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
_OPERATORS = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal, "==": np.equal}


class SimulationFailed(Exception):
    """One simulation of the trusted evaluation failed; the message says why."""


def parse_summary(data: bytes) -> dict[str, Any]:
    try:
        summary = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimulationFailed(f"unreadable summary.json ({exc})") from None
    if not isinstance(summary, dict):
        raise SimulationFailed("summary.json is not a JSON object")
    return summary


def check_summary(summary: Mapping[str, Any], metric: Metric) -> dict[str, float]:
    """The metric's values from a summary, or SimulationFailed with the simulator's own reason."""
    if summary.get("valid") is not True:
        error = summary.get("error")
        raise SimulationFailed(
            str(error)[:2000] if error else f"the run is not valid (valid={summary.get('valid')!r})"
        )
    requests, completed = summary.get("num_requests"), summary.get("num_completed")
    counted = requests is not None or completed is not None
    if counted and (not _is_int(requests) or requests <= 0 or completed != requests):
        raise SimulationFailed(f"only {completed!r} of {requests!r} requests completed")
    return {key: _finite(summary, key) for key in metric.keys}


def check_per_request(
    summary: Mapping[str, Any], data: bytes, check: PerRequestCheck, max_rows: int = 2_000_000
) -> None:
    """Recompute the task's listed summary values from the per-request records and compare."""
    needed = {a.column for a in check.recompute.values() if a.column}
    columns, rows = _read_columns(data, check.file, needed, max_rows)
    requests = summary.get("num_requests")
    if _is_int(requests) and rows != requests:
        raise SimulationFailed(f"{check.file} has {rows} rows for {requests} requests")
    for key, aggregate in check.recompute.items():
        expected = _recompute(aggregate, columns, rows, check.file)
        claimed = summary.get(key)
        if not _number(claimed) or not math.isclose(
            float(claimed), expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE
        ):
            raise SimulationFailed(
                f"summary.json says {key} = {claimed!r}, but {aggregate} over {check.file} is {expected!r}"
            )


def seed_result(
    seed: int, design_seed: int, values: dict[str, float], summary: Mapping[str, Any]
) -> SeedResult:
    wall = summary.get("wall_time_s")
    cpu = summary.get("cpu_time_s")
    decision = summary.get("decision_cpu_ms")
    return SeedResult(
        seed=seed,
        design_seed=design_seed,
        values=values,
        wall_time_s=float(wall) if _number(wall) else 0.0,
        cpu_time_s=_finite_or_none(cpu),
        decision_cpu_ms=_finite_or_none(decision),
    )


def _finite_or_none(value: Any) -> float | None:
    return float(value) if _number(value) and math.isfinite(value) and value >= 0 else None


def _read_columns(
    data: bytes, name: str, needed: set[str], max_rows: int
) -> tuple[dict[str, np.ndarray], int]:
    """The `needed` columns as floats (blank or unreadable cells become NaN) and the row count."""
    rows = 0
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8")))
        header = next(reader)
        positions = {key: i for i, key in enumerate(header) if key in needed}
        raw: dict[str, list[str]] = {key: [] for key in positions}
        for row in reader:
            rows += 1
            if rows > max_rows:
                raise SimulationFailed(f"{name} has more than {max_rows} rows")
            if len(row) != len(header):
                raise SimulationFailed(
                    f"{name}: row {rows + 1} has {len(row)} fields, the header {len(header)}"
                )
            for key, index in positions.items():
                raw[key].append(row[index])
    except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
        raise SimulationFailed(f"{name} is not a readable CSV file ({exc})") from None
    return {key: _floats(values) for key, values in raw.items()}, rows


def _floats(values: list[str]) -> np.ndarray:
    out = np.empty(len(values))
    for i, text in enumerate(values):
        try:
            out[i] = float(text) if text.strip() else math.nan
        except ValueError:
            out[i] = math.nan
    return out


def _recompute(aggregate: Aggregate, columns: Mapping[str, np.ndarray], rows: int, name: str) -> float:
    if aggregate.func == "count":
        return float(rows)
    values = columns.get(aggregate.column or "")
    if values is None:
        raise SimulationFailed(f"{name} has no column {aggregate.column!r} (needed for {aggregate})")
    if aggregate.func == "fraction":
        return float(np.mean(_OPERATORS[aggregate.op](values, aggregate.value))) if rows else math.nan
    if not rows or not np.all(np.isfinite(values)):
        raise SimulationFailed(f"{name}: column {aggregate.column!r} has missing or non-finite values")
    if aggregate.func.startswith("p"):
        return float(np.percentile(values, float(aggregate.func[1:])))
    return float({"mean": np.mean, "sum": np.sum, "min": np.min, "max": np.max}[aggregate.func](values))


def _finite(summary: Mapping[str, Any], key: str) -> float:
    value = summary.get(key)
    if not _number(value) or not math.isfinite(value):
        raise SimulationFailed(f"summary.json field {key!r} is not a finite number (got {value!r})")
    return float(value)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
