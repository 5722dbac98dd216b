"""The fast CSV writers write exactly the bytes the csv module writes for the same rows.

`metrics.write_csv` formats numeric columns itself and `SimulationLogs.write` formats log rows itself
(both skip the csv module's per-cell quoting checks, a third of a run's CSV time); these tests hold
them to the csv module's output, cell for cell, for the values a run produces and for the edge
cases: missing values, non-numeric columns, a single column, no rows.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
from llmsim.columns import Columns
from llmsim.metrics import write_csv
from llmsim.sim_output import GS_LOG_COLUMNS, REQS_LOG_COLUMNS, SimulationLogs


def csv_module_bytes(header: list[str], rows: list[tuple]) -> bytes:
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(rows)
    return handle.getvalue().encode()


def reference_rows(frame: dict[str, np.ndarray]) -> list[tuple]:
    columns = [["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in a.tolist()]
               for a in frame.values()]  # fmt: skip
    return list(zip(*columns, strict=True))


def test_numeric_columns_are_the_csv_modules_bytes(tmp_path):
    rng = np.random.default_rng(3)
    data = {
        "id": np.arange(500, dtype=np.int64),
        "x": rng.exponential(3.0, 500),
        "tiny": rng.random(500) * 1e-9,
        "huge": rng.random(500) * 1e20,
        "flag": rng.random(500) < 0.5,
        "whole": np.round(rng.random(500) * 10),
    }
    data["x"][::7] = np.nan
    data["huge"][3] = np.inf
    path = tmp_path / "m.csv"
    write_csv(Columns(dict(data)), path)
    assert path.read_bytes() == csv_module_bytes(list(data), reference_rows(data))
    assert path.read_bytes() == pd.DataFrame(data).to_csv(index=False, lineterminator="\r\n").encode()


def test_other_columns_and_edge_cases_fall_back_to_the_csv_module(tmp_path):
    cases = [
        {"id": np.arange(3), "name": np.array(["a,b", 'say "x"', None], dtype=object)},
        {"only": np.array([1.0, np.nan, 2.5])},
        {"a": np.array([], dtype=np.int64), "b": np.array([], dtype=float)},
    ]
    for data in cases:
        path = tmp_path / "m.csv"
        write_csv(Columns(dict(data)), path)
        assert path.read_bytes() == csv_module_bytes(list(data), reference_rows(data)), list(data)


def test_the_logs_are_the_csv_modules_bytes(tmp_path):
    rng = np.random.default_rng(5)
    gs, reqs = [], []
    for call in range(300):
        now = float(call * 0.37 + rng.random())
        for rid in range(4):
            gs.append(
                (
                    now,
                    rid,
                    int(rng.integers(0, 9)),
                    int(rng.integers(0, 40)),
                    int(rng.integers(0, 2254)),
                    2254,
                )
            )
        reqs.append((now, call % 4, call, int(rng.integers(1, 4000)), int(rng.integers(1, 900))))
    logs = SimulationLogs(gs=gs, reqs=reqs)
    logs.write(tmp_path)
    expected_gs = [(*row, round(100.0 * row[4] / row[5], 4)) for row in gs]
    assert (tmp_path / "gs_log.csv").read_bytes() == csv_module_bytes(list(GS_LOG_COLUMNS), expected_gs)
    assert (tmp_path / "reqs_log.csv").read_bytes() == csv_module_bytes(list(REQS_LOG_COLUMNS), reqs)
