"""One simulation from config to result folder: used by the CLI, scripts and tests."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from llmsim.config import SimulationConfig
from llmsim.errors import SimulationError
from llmsim.metrics import request_metrics, summarize, write_json
from llmsim.simulator import SimulationResult, Simulator, requests_from_trace
from llmsim.workload import WorkloadSpec, generate_trace, read_trace

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


def load_workload(config: SimulationConfig):
    if config.trace:
        return read_trace(config.trace)
    return generate_trace(WorkloadSpec(qps=config.qps, duration=config.duration, seed=config.seed))


def experiment_name(config: SimulationConfig) -> str:
    if config.experiment:
        return config.experiment
    label = Path(config.trace).stem if config.trace else f"sharegpt_{config.qps:g}_seed{config.seed}"
    return f"{label}_{config.router}"


def new_result_dir(config: SimulationConfig) -> Path:
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
    path = Path(config.output_root) / experiment_name(config) / stamp
    path.mkdir(parents=True, exist_ok=False)
    return path


def simulate(config: SimulationConfig, router_cls: type | None = None) -> SimulationResult:
    """Run without writing anything (raises SimulationError if the run is invalid)."""
    requests = requests_from_trace(load_workload(config))
    return Simulator(config, requests, router_cls).run()


def run_and_record(config: SimulationConfig, router_cls: type | None = None) -> tuple[Path, dict]:
    """Run and write the result folder. Never raises SimulationError: invalid runs are recorded
    with valid=false and the error in summary.json."""
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
    }
    summary.update({k: None for k in SUMMARY_KEYS})
    result = None
    try:
        trace = load_workload(config)
        if config.trace:  # the rate the trace really has
            summary["qps"] = round(len(trace) / float(trace["arrived_at"].max()), 3)
        result = Simulator(config, requests_from_trace(trace), router_cls).run()
        metrics = request_metrics(result.requests)
        summary.update(summarize(metrics))
        summary["valid"] = True
        metrics.to_csv(out / "request_metrics.csv", index=False)
    except SimulationError as exc:
        summary["error"] = f"{type(exc).__name__}: {exc}"
    if result is not None:
        result.logs.write(out)
        summary.update(
            simulated_time=result.end_time,
            num_events=result.num_events,
            num_router_calls=result.num_router_calls,
            num_iterations=result.num_iterations,
            num_preemptions=result.num_preemptions,
            num_blocks_per_replica=result.num_blocks,
        )
    summary["wall_time_s"] = time.perf_counter() - started
    write_json(summary, out / "summary.json")
    return out, summary
