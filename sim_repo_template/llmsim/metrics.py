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

import numpy as np
import pandas as pd

from llmsim.request import Request


def request_metrics(
    requests: list[Request], ideal: np.ndarray | None = None, users: dict[int, int] | None = None
) -> pd.DataFrame:
    """One row per request. `ideal`: load-free times in request order (adds ideal_time and slowdown);
    `users`: request id -> closed-loop user (adds user_id)."""
    rows = {
        "request_id": [r.id for r in requests],
        "replica_id": [r.replica_id for r in requests],
        "arrived_at": [r.arrived_at for r in requests],
        "completed_at": [r.completed_at for r in requests],
        "first_token_at": [r.first_token_at for r in requests],
        "scheduled_at": [r.scheduled_at for r in requests],
        "routed_at": [r.routed_at for r in requests],
        "request_execution_time": [r.execution_time for r in requests],
        "request_preemption_time": [r.preemption_time for r in requests],
        "request_num_restarts": [r.num_restarts for r in requests],
        "request_num_prefill_tokens": [r.num_prompt_tokens for r in requests],
        "request_num_decode_tokens": [r._total_tokens - r.num_prompt_tokens for r in requests],
    }
    df = pd.DataFrame(rows)
    df["request_e2e_time"] = df.completed_at - df.arrived_at
    df["ttft"] = df.first_token_at - df.arrived_at
    later_tokens = (df.request_num_decode_tokens - 1).clip(lower=1)
    df["tpot"] = np.where(
        df.request_num_decode_tokens > 1, (df.completed_at - df.first_token_at) / later_tokens, 0.0
    )
    df["request_scheduling_delay"] = df.scheduled_at - df.arrived_at
    df["router_queue_delay"] = df.routed_at - df.arrived_at
    if ideal is not None:
        df["ideal_time"] = ideal
        df["slowdown"] = df.request_e2e_time / df.ideal_time
    if users is not None:
        df["user_id"] = [users[r.id] for r in requests]
    first = ["request_id", "replica_id", "request_e2e_time", "ttft", "tpot", "request_scheduling_delay"]
    return df[first + [c for c in df.columns if c not in first]]


def summarize(metrics: pd.DataFrame) -> dict:
    e2e = metrics.request_e2e_time.to_numpy()
    makespan = float(metrics.completed_at.max())
    summary = {
        "num_requests": len(metrics),
        "num_completed": int(metrics.completed_at.notna().sum()),
        "mean_e2e": float(e2e.mean()),
        "p50_e2e": float(np.percentile(e2e, 50)),
        "p90_e2e": float(np.percentile(e2e, 90)),
        "p99_e2e": float(np.percentile(e2e, 99)),
        "frac_restarted": float((metrics.request_num_restarts > 0).mean()),
        "mean_scheduling_delay": float(metrics.request_scheduling_delay.mean()),
        "mean_ttft": float(metrics.ttft.mean()),
        "throughput_rps": len(metrics) / makespan if makespan > 0 else float("nan"),
    }
    ttft = metrics.ttft.to_numpy()
    summary.update(p90_ttft=float(np.percentile(ttft, 90)), p99_ttft=float(np.percentile(ttft, 99)))
    if "slowdown" in metrics:
        slowdown = metrics.slowdown.to_numpy()
        summary.update(
            mean_slowdown=float(slowdown.mean()),
            p50_slowdown=float(np.percentile(slowdown, 50)),
            p95_slowdown=float(np.percentile(slowdown, 95)),
            p99_slowdown=float(np.percentile(slowdown, 99)),
        )
    summary["makespan"] = makespan
    return summary


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as CSV, the bytes pandas' `to_csv(index=False)` writes (shortest round-trip floats, empty
    cells for missing values), with the csv module: a quarter of a benchmark run's wall time went there."""
    columns = []
    for name in frame.columns:
        values = frame[name].tolist()
        if frame[name].isna().any():
            values = ["" if value is None or value != value else value for value in values]
        columns.append(values)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(frame.columns))
        writer.writerows(zip(*columns, strict=True))


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")
