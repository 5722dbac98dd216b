"""One simulation from config to result folder: used by the CLI, scripts and tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from llmsim.columns import Columns
from llmsim.config import SimulationConfig
from llmsim.errors import SimulationError, WorkloadError
from llmsim.execution_model import ExecutionTimeModel
from llmsim.glia_ledger import LedgerError, RunReport
from llmsim.hardware import DEVICES, MODELS
from llmsim.ideal import ideal_times
from llmsim.metrics import metric_columns, summarize, write_csv, write_json
from llmsim.simulator import SimulationResult, Simulator
from llmsim.sources import build_source, experiment_label, open_loop_columns
from llmsim.workload import read_trace_columns

if TYPE_CHECKING:  # a run needs no pandas (see llmsim/columns.py)
    import pandas as pd

SUMMARY_KEYS = (
    "num_requests",
    "num_completed",
    "mean_e2e",
    "p50_e2e",
    "p90_e2e",
    "p99_e2e",
    "frac_restarted",
    "mean_scheduling_delay",
    "throughput_rps",
)


def load_workload(config: SimulationConfig) -> pd.DataFrame:
    """The requests of an open-loop run: the trace's arrivals in the first `duration` seconds, or a
    generated workload of `duration` seconds. (The shipped traces span exactly 1000 s, the default.)"""
    return workload_columns(config).frame()


def workload_columns(config: SimulationConfig) -> Columns:
    """`load_workload` without pandas: what a run uses."""
    if config.trace:
        full = read_trace_columns(config.trace)
        kept = cut_trace(full, config.duration)
        kept.attrs["trace_requests_total"] = len(full)
        return kept
    return open_loop_columns(config)


def build_simulator(
    config: SimulationConfig,
    router_cls: type | None = None,
    reporter: RunReport | None = None,
    **classes: type | None,
) -> Simulator:
    """A simulator for `config` with its workload (`classes`: scheduler_policy, autoscaler_cls)."""
    closed = not config.trace and config.arrivals == "closed_loop"
    source = build_source(config) if closed else build_source(config, workload_columns(config))
    return Simulator(config, source.requests, router_cls, reporter=reporter, source=source, **classes)


def metrics_of(result: SimulationResult, config: SimulationConfig) -> pd.DataFrame:
    """Per-request metrics of a finished run, slowdown and closed-loop users included."""
    return metric_columns_of(result, config).frame()


def metric_columns_of(result: SimulationResult, config: SimulationConfig) -> Columns:
    """`metrics_of` without pandas: what a run writes."""
    model = ExecutionTimeModel(MODELS[config.model], DEVICES[config.device])
    ideal = ideal_times(
        [r.num_prompt_tokens for r in result.requests],
        [r._total_tokens - r.num_prompt_tokens for r in result.requests],
        model,
        config.chunk_size,
    )
    return metric_columns(result.requests, ideal, result.users)


def summary_of(result: SimulationResult, metrics: Columns | pd.DataFrame) -> dict:
    """The run's summary numbers: per-request statistics, then the cluster's."""
    summary = summarize(metrics)
    summary.update(
        gpu_hours=result.gpu_hours,
        max_replicas_used=result.max_replicas_used,
        num_scale_ups=result.num_scale_ups,
        num_scale_downs=result.num_scale_downs,
        num_scheduler_calls=result.num_scheduler_calls,
        num_autoscaler_calls=result.num_autoscaler_calls,
    )
    return summary


def cut_trace(trace: Columns, duration: float) -> Columns:
    """The rows of `trace` that arrive at or before `duration` seconds."""
    if not duration > 0:
        raise WorkloadError(f"duration must be positive, got {duration}")
    kept = trace.take(np.flatnonzero(trace["arrived_at"] <= duration))
    if len(kept) == 0:
        raise WorkloadError(f"no request of the trace arrives within the first {duration:g} s")
    return kept


def experiment_name(config: SimulationConfig) -> str:
    if config.experiment:
        return config.experiment
    return f"{experiment_label(config)}_{config.router}"


def new_result_dir(config: SimulationConfig) -> Path:
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    path = Path(config.output_root) / experiment_name(config) / stamp
    path.mkdir(parents=True, exist_ok=False)
    return path


def simulate(
    config: SimulationConfig, router_cls: type | None = None, **classes: type | None
) -> SimulationResult:
    """Run without writing anything (raises SimulationError if the run is invalid). Inside Glia the
    run is still counted: `Simulator.run()` reports it. `classes`: scheduler_policy, autoscaler_cls."""
    return build_simulator(config, router_cls, **classes).run()


def run_and_record(
    config: SimulationConfig, router_cls: type | None = None, **classes: type | None
) -> tuple[Path, dict]:
    """Run and write the result folder. Never raises SimulationError: invalid runs are recorded
    with valid=false and the error in summary.json. Raises LedgerError (and leaves no result folder)
    when Glia's ledger does not let the simulation run."""
    started = time.perf_counter()
    out = new_result_dir(config)
    write_json(config.to_dict(), out / "config.json")
    summary: dict = {
        "valid": False,
        "error": None,
        "router": config.router,
        "trace": config.trace,
        "qps": config.qps,
        "seed": config.seed,
        "duration": config.duration,
        "arrivals": None if config.trace else config.arrivals,
        "lengths": None if config.trace else config.lengths,
        "replica_scheduler": config.replica_scheduler,
        "autoscaler": config.autoscaler,
        "model": config.model,
        "device": config.device,
    }
    if not config.trace and config.arrivals == "closed_loop":
        summary.update(users=config.users, think_time=config.think_time)
    summary.update({k: None for k in SUMMARY_KEYS})
    result = None
    report = RunReport(result_dir=str(out), summary_follows=True)
    try:
        try:
            simulator = build_simulator(config, router_cls, report, **classes)
            trace = getattr(simulator.workload, "trace", None)
            if config.trace:  # the rate the trace really has, and how much of it was kept
                summary["qps"] = round(len(trace) / float(trace["arrived_at"].max()), 3)
                summary["trace_requests_kept"] = len(trace)
                summary["trace_requests_total"] = trace.attrs.get("trace_requests_total", len(trace))
            elif config.arrivals != "bursty":
                summary["qps"] = None  # see throughput_rps (and, for a sinusoid, qps_low / qps_high)
            result = simulator.run()
            metrics = metric_columns_of(result, config)
            summary.update(summary_of(result, metrics))
            summary["valid"] = True
            write_csv(metrics, out / "request_metrics.csv")
        except SimulationError as exc:
            summary["error"] = f"{type(exc).__name__}: {exc}"
        except LedgerError:
            shutil.rmtree(out, ignore_errors=True)  # nothing ran: leave no half-made result folder
            with contextlib.suppress(OSError):
                out.parent.rmdir()  # the experiment folder, if this run was all it held
            raise
        if result is not None:
            result.logs.write(out)
            summary.update(
                simulated_time=result.end_time,
                num_events=result.num_events,
                num_router_calls=result.num_router_calls,
                num_iterations=result.num_iterations,
                num_preemptions=result.num_preemptions,
                num_blocks_per_replica=result.num_blocks,
                cpu_time_s=result.cpu_time_s,
                decision_cpu_s=result.decision_cpu_s,
                decision_calls=result.decision_calls,
                decision_cpu_ms=1000.0 * result.decision_cpu_s / max(1, result.decision_calls),
            )
        summary["wall_time_s"] = time.perf_counter() - started
        write_json(summary, out / "summary.json")
        report.end(summary["valid"], summary["error"], summary)
    finally:
        report.close()  # no end sent (a crash, an interrupt): the ledger records a crashed run
    return out, summary
