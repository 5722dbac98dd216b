"""Baseline table: each shipped router over 10 workload seeds at 7.5 QPS (seed 0 = the benchmark trace).

For every router: mean end-to-end latency averaged over seeds with a 90% bootstrap confidence
interval (resampling the per-seed means), the fraction of requests restarted at least once, and the
mean scheduling (queueing) delay. Nothing is written to disk.

Usage: python scripts/baseline_table.py [--seeds 10] [--qps 7.5] [--jobs 2] [--routers random,round_robin,llq,lor]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmsim.config import SimulationConfig  # noqa: E402
from llmsim.metrics import request_metrics, summarize  # noqa: E402
from llmsim.runner import simulate  # noqa: E402


def one_run(job: tuple[str, int, float, str]) -> tuple[str, int, dict]:
    router, seed, qps, scheduler = job
    result = simulate(SimulationConfig(router=router, seed=seed, qps=qps, replica_scheduler=scheduler))
    return router, seed, summarize(request_metrics(result.requests))


def bootstrap_ci(values: np.ndarray, level: float = 0.90, resamples: int = 10_000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    means = rng.choice(values, size=(resamples, len(values)), replace=True).mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--qps", type=float, default=7.5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--routers", default="random,round_robin,llq,lor")
    parser.add_argument("--replica-scheduler", default="sarathi")
    args = parser.parse_args()
    routers = args.routers.split(",")
    jobs = [(r, s, args.qps, args.replica_scheduler) for r in routers for s in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one_run, jobs))

    print(f"{args.seeds} seeds, {args.qps:g} QPS, 1000 s, 4 x A10, Llama-3-8B, {args.replica_scheduler}\n")
    print(
        "| router | mean e2e (s) | 90% CI | restarted | mean scheduling delay (s) | seed 0 (benchmark trace) e2e |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for router in routers:
        rows = sorted((seed, s) for r, seed, s in results if r == router)
        e2e = np.array([s["mean_e2e"] for _, s in rows])
        low, high = bootstrap_ci(e2e)
        restarted = np.mean([s["frac_restarted"] for _, s in rows])
        delay = np.mean([s["mean_scheduling_delay"] for _, s in rows])
        seed0 = rows[0][1]["mean_e2e"]
        print(
            f"| {router} | {e2e.mean():.1f} | [{low:.1f}, {high:.1f}] | {100 * restarted:.1f}% | {delay:.1f} | "
            f"{seed0:.1f} |"
        )
    print("\nper seed mean e2e (s):")
    for router in routers:
        rows = sorted((seed, s["mean_e2e"]) for r, seed, s in results if r == router)
        print(f"  {router:12s} " + " ".join(f"{v:6.1f}" for _, v in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
