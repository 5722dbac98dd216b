"""Per-request metrics, the run summary, and the files a run writes.

request_metrics.csv (one row per request; times in seconds):
  request_e2e_time          completed_at - arrived_at
  ttft                      first output token - arrived_at (the first time, even if later restarted)
  tpot                      (completed_at - first token) / (decode tokens - 1); 0 for 1-token outputs
  request_scheduling_delay  first admission on a replica - arrived_at (router hold + replica queue)
  router_queue_delay        routed_at - arrived_at (time held by the router)
  request_execution_time    time inside batches, including work lost to restarts
  request_preemption_time   time from each preemption to the re-admission, summed
  request_num_restarts, request_num_prefill_tokens (prompt), request_num_decode_tokens
  ideal_time                the request's load-free time: alone on an idle replica (llmsim/ideal.py)
  slowdown                  request_e2e_time / ideal_time (the Glia paper's definition; 1 = no interference)
  user_id                   closed-loop workloads only: the user who sent it

summary.json adds, besides counts and the e2e statistics: mean / p90 / p99 TTFT, mean / p50 / p95 / p99
slowdown, throughput (requests completed per second of the run: count / time of the last completion),
and the makespan (that time). runner.py adds GPU-hours and the cluster's scaling counts.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from llmsim.columns import Columns, column
from llmsim.request import Request

if TYPE_CHECKING:  # a run needs no pandas (see llmsim/columns.py)
    import pandas as pd

FIRST_COLUMNS = ["request_id", "replica_id", "request_e2e_time", "ttft", "tpot", "request_scheduling_delay"]


def request_metrics(
    requests: list[Request], ideal: np.ndarray | None = None, users: dict[int, int] | None = None
) -> pd.DataFrame:
    """One row per request, as a DataFrame. `ideal`: load-free times in request order (adds ideal_time and
    slowdown); `users`: request id -> closed-loop user (adds user_id)."""
    return metric_columns(requests, ideal, users).frame()


def metric_columns(
    requests: list[Request], ideal: np.ndarray | None = None, users: dict[int, int] | None = None
) -> Columns:
    """`request_metrics` without pandas (the same numbers, dtypes and column order): what a run writes."""
    rows = Columns(
        {
            "request_id": column(r.id for r in requests),
            "replica_id": column(r.replica_id for r in requests),
            "arrived_at": column(r.arrived_at for r in requests),
            "completed_at": column(r.completed_at for r in requests),
            "first_token_at": column(r.first_token_at for r in requests),
            "scheduled_at": column(r.scheduled_at for r in requests),
            "routed_at": column(r.routed_at for r in requests),
            "request_execution_time": column(r.execution_time for r in requests),
            "request_preemption_time": column(r.preemption_time for r in requests),
            "request_num_restarts": column(r.num_restarts for r in requests),
            "request_num_prefill_tokens": column(r.num_prompt_tokens for r in requests),
            "request_num_decode_tokens": column(r._total_tokens - r.num_prompt_tokens for r in requests),
        }
    )
    decodes = rows["request_num_decode_tokens"]
    rows["request_e2e_time"] = rows["completed_at"] - rows["arrived_at"]
    rows["ttft"] = rows["first_token_at"] - rows["arrived_at"]
    later_tokens = np.maximum(decodes - 1, 1)
    rows["tpot"] = np.where(decodes > 1, (rows["completed_at"] - rows["first_token_at"]) / later_tokens, 0.0)
    rows["request_scheduling_delay"] = rows["scheduled_at"] - rows["arrived_at"]
    rows["router_queue_delay"] = rows["routed_at"] - rows["arrived_at"]
    if ideal is not None:
        rows["ideal_time"] = column(ideal)
        rows["slowdown"] = rows["request_e2e_time"] / rows["ideal_time"]
    if users is not None:
        rows["user_id"] = column(users[r.id] for r in requests)
    return rows.select(FIRST_COLUMNS + [c for c in rows if c not in FIRST_COLUMNS])


def _mean(values: np.ndarray) -> float:
    """The mean of the values that are not NaN: pandas' Series.mean(), which the summary used before."""
    return float(np.nanmean(values)) if values.dtype.kind == "f" else float(np.mean(values))


def summarize(metrics: Columns | pd.DataFrame) -> dict:
    """The summary numbers of per-request metrics (Columns, or the DataFrame `request_metrics` gives)."""

    def get(name: str) -> np.ndarray:
        return np.asarray(metrics[name])

    e2e = get("request_e2e_time")
    completed = get("completed_at")
    makespan = float(np.nanmax(completed))
    summary = {
        "num_requests": len(metrics),
        "num_completed": int(np.count_nonzero(~np.isnan(completed))),
        "mean_e2e": float(e2e.mean()),
        "p50_e2e": float(np.percentile(e2e, 50)),
        "p90_e2e": float(np.percentile(e2e, 90)),
        "p99_e2e": float(np.percentile(e2e, 99)),
        "frac_restarted": _mean(get("request_num_restarts") > 0),
        "mean_scheduling_delay": _mean(get("request_scheduling_delay")),
        "mean_ttft": _mean(get("ttft")),
        "throughput_rps": len(metrics) / makespan if makespan > 0 else float("nan"),
    }
    ttft = get("ttft")
    summary.update(p90_ttft=float(np.percentile(ttft, 90)), p99_ttft=float(np.percentile(ttft, 99)))
    if "slowdown" in metrics:
        slowdown = get("slowdown")
        summary.update(
            mean_slowdown=float(slowdown.mean()),
            p50_slowdown=float(np.percentile(slowdown, 50)),
            p95_slowdown=float(np.percentile(slowdown, 95)),
            p99_slowdown=float(np.percentile(slowdown, 99)),
        )
    summary["makespan"] = makespan
    return summary


def write_csv(frame: Columns | pd.DataFrame, path: Path) -> None:
    """`frame` as CSV, the bytes pandas' `to_csv(index=False)` writes (shortest round-trip floats, empty
    cells for missing values, CRLF line ends as the csv module writes them). Numeric columns are
    formatted a column at a time (`map(str, ...)` runs in C: a third cheaper than the csv writer, which
    checks every cell for quoting a number never needs); any other column falls back to the csv module."""
    names = list(frame.keys())
    columns = []
    cells = []  # each column's cells as strings, while every column so far is numeric
    for name in names:
        array = np.asarray(frame[name])
        values = array.tolist()
        gaps = array.dtype.kind == "f" and bool(np.isnan(array).any())
        if gaps or array.dtype == object:
            values = ["" if value is None or value != value else value for value in values]
        columns.append(values)
        if cells is not None and array.dtype.kind in "biuf":
            cells.append(
                ["" if value == "" else str(value) for value in values] if gaps else list(map(str, values))
            )
        else:
            cells = None
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        if cells is None or len(names) < 2:  # a lone empty cell is written `""`: leave that to the csv module
            writer.writerows(zip(*columns, strict=True))
        elif cells[0]:
            handle.write("\r\n".join(map(",".join, zip(*cells, strict=True))))
            handle.write("\r\n")


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
