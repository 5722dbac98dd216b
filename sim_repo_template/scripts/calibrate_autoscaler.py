"""Load test behind the threshold autoscaler's settings (llmsim/autoscalers/threshold.py).

What an operator does before configuring a throughput-threshold autoscaler: run the deployment (here its
starting size, 4 A10 replicas behind the LLQ router) at a steady load, raise the load step by step, and
note the per-replica output-token throughput at the highest load that still meets the latency target
(p95 slowdown <= 5). The autoscaler then adds a replica above 80% of that throughput and removes one below
three quarters of its add threshold. The script also reports the requests in flight per replica at that
load (Little's law), the quantity an in-flight-based controller would aim at.

Usage: python scripts/calibrate_autoscaler.py [--seeds 4] [--duration 1800] [--replicas 4] [--jobs 2]
Nothing is written to disk. Steady load = a sinusoid with equal low and high rates (Poisson arrivals).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llmsim.config import SimulationConfig  # noqa: E402
from llmsim.runner import metrics_of, simulate, summary_of  # noqa: E402

SLO = 5.0
HEADROOM = 0.8


def one_run(job: tuple[float, int, int, float]) -> tuple[float, int, float, float, float]:
    """(per-replica rate, seed, p95 slowdown, output tokens / s per replica, requests in flight per replica)."""
    per_replica, seed, replicas, duration = job
    qps = per_replica * replicas
    config = SimulationConfig(
        router="llq", arrivals="sinusoid", qps_low=qps, qps_high=qps, duration=duration,
        num_replicas=replicas, seed=seed,
    )  # fmt: skip
    result = simulate(config)
    metrics = metrics_of(result, config)
    summary = summary_of(result, metrics)
    span = summary["makespan"]
    tokens = float(metrics.request_num_decode_tokens.sum()) / span / replicas
    in_flight = float(metrics.request_e2e_time.sum()) / span / replicas  # Little's law
    return per_replica, seed, summary["p95_slowdown"], tokens, in_flight


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=1800.0)
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--rates", default="1.4,1.5,1.6,1.7,1.8,1.9,2.0,2.1,2.2", help="requests/s per replica"
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    jobs = [(rate, seed, args.replicas, args.duration) for rate in rates for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(one_run, jobs))
    print(
        f"steady Poisson load on {args.replicas} A10 replicas (LLQ), {args.duration:g} s, {args.seeds} seeds\n"
    )
    print(
        "| requests/s per replica | p95 slowdown (mean of seeds) | output tokens/s per replica | in flight per replica |"
    )
    print("| --- | --- | --- | --- |")
    knee = None
    for rate in rates:
        rows = [r for r in results if r[0] == rate]
        p95 = float(np.mean([r[2] for r in rows]))
        tokens = float(np.mean([r[3] for r in rows]))
        in_flight = float(np.mean([r[4] for r in rows]))
        print(f"| {rate:.2f} | {p95:.2f} | {tokens:.0f} | {in_flight:.1f} |")
        if p95 <= SLO and (knee is None or rate > knee[0]):
            knee = (rate, tokens, in_flight)
    if knee is None:
        print("\nno load met the SLO")
        return 1
    rate, tokens, in_flight = knee
    high = HEADROOM * tokens
    print(
        f"\nhighest load meeting p95 slowdown <= {SLO:g}: {rate:.2f} requests/s per replica, "
        f"{tokens:.0f} output tokens/s, {in_flight:.1f} requests in flight per replica"
    )
    print(
        f"threshold autoscaler: HIGH = {HEADROOM:g} x {tokens:.0f} = {high:.0f} tokens/s, LOW = {0.75 * high:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
