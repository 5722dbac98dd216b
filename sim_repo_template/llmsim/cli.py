"""Command line: `python -m llmsim run ...` simulates, `python -m llmsim generate ...` writes a trace."""

from __future__ import annotations

import argparse
import sys

from llmsim.autoscalers import AUTOSCALER_NAMES
from llmsim.config import ARRIVALS, LENGTH_PROFILES, SimulationConfig
from llmsim.glia_ledger import LedgerError
from llmsim.global_schedulers.registry import ROUTERS
from llmsim.hardware import DEVICES, MODELS
from llmsim.replica_schedulers import SCHEDULER_NAMES
from llmsim.runner import run_and_record
from llmsim.workload import add_generate_arguments, generate_command

DESCRIPTION = """\
Simulate a cluster of GPU replicas serving LLM inference (default: 4 x A10, Llama-3-8B,
Sarathi chunked prefill with 8192-token chunks, 2254 KV blocks of 16 tokens per replica).
Three design slots take the name `ai` for the Researcher's design: --router ai (the routing tasks),
--replica-scheduler ai (batch scheduling) and --autoscaler ai (autoscaling).

Each run writes simulator_results/<experiment>/<timestamp>/ with config.json, summary.json,
request_metrics.csv (one row per request), gs_log.csv (replica state at every router call) and
reqs_log.csv (one row per routing decision). The last line of a valid run is `mean_e2e: <seconds>`.
An invalid run (router error, reading decode lengths, unfinished requests, safety limit) writes
summary.json with valid=false and the error, and exits with status 1. Inside Glia (GLIA_LEDGER set)
every simulation is counted against the run's budget when it starts; when the budget is spent the
run is refused before it starts and the command exits with status 2.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m llmsim", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = SimulationConfig()

    run = sub.add_parser(
        "run",
        help="run one simulation",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--router",
        default=defaults.router,
        choices=sorted(ROUTERS),
        help="global scheduler (default: ai, the design file)",
    )
    source = run.add_mutually_exclusive_group()
    source.add_argument(
        "--trace", help="trace CSV to replay (arrived_at, num_prefill_tokens, num_decode_tokens)"
    )
    source.add_argument(
        "--qps",
        type=float,
        default=defaults.qps,
        help="generate the workload on the fly at this rate (default 7.5)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="workload seed when generating (default 0)",
    )
    run.add_argument(
        "--router-seed",
        "--design-seed",
        dest="router_seed",
        type=int,
        default=defaults.router_seed,
        help="seed of the designs' random generators (self.rng of the router, replica scheduler and "
        "autoscaler), independent of the workload (default 0)",
    )
    run.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds of arrivals (default 1000): the length of a generated workload, or where a "
        "--trace is cut (requests arriving later are dropped; the summary records how many were kept)",
    )
    run.add_argument("--experiment", help="result sub-folder name (default <trace>_<router>)")
    run.add_argument("--output-root", default=defaults.output_root, help="default simulator_results")
    run.add_argument(
        "--time-limit",
        type=float,
        default=defaults.time_limit,
        help="CPU-time limit in seconds, this process and the design's together (default 600); "
        "the wall clock only guards against hangs, at 10x",
    )
    run.add_argument(
        "--replica-scheduler",
        default=defaults.replica_scheduler,
        choices=SCHEDULER_NAMES,
        help="batch scheduler: sarathi (default), vllm, or ai (the design in "
        "llmsim/replica_schedulers/ai_replica_scheduler.py)",
    )
    workload = run.add_argument_group("generated workloads (ignored with --trace)")
    workload.add_argument(
        "--arrivals",
        default=defaults.arrivals,
        choices=ARRIVALS,
        help="bursty: log-normal gaps at --qps (default); sinusoid: a Poisson rate from --qps-low up to "
        "--qps-high and back every --period s; closed_loop: --users users, each sending its next request "
        "--think-time s (mean) after its answer",
    )
    workload.add_argument(
        "--lengths",
        default=defaults.lengths,
        choices=LENGTH_PROFILES,
        help="request lengths: sharegpt (chat, default) or prefill_heavy (code completion: prompts ~73x "
        "longer than outputs)",
    )
    workload.add_argument("--qps-low", type=float, default=defaults.qps_low, help="sinusoid (default 7.5)")
    workload.add_argument("--qps-high", type=float, default=defaults.qps_high, help="sinusoid (default 22.5)")
    workload.add_argument(
        "--period", type=float, default=defaults.period, help="sinusoid: seconds per cycle (default 3600)"
    )
    workload.add_argument("--users", type=int, default=defaults.users, help="closed loop (default 200)")
    workload.add_argument(
        "--think-time", type=float, default=defaults.think_time, help="closed loop: mean seconds (default 0)"
    )
    cluster = run.add_argument_group("cluster and autoscaling")
    cluster.add_argument(
        "--num-replicas", type=int, default=defaults.num_replicas, help="replicas at the start (default 4)"
    )
    cluster.add_argument("--model", default=defaults.model, choices=sorted(MODELS), help="default llama-3-8b")
    cluster.add_argument("--device", default=defaults.device, choices=sorted(DEVICES), help="default a10")
    cluster.add_argument(
        "--autoscaler",
        choices=AUTOSCALER_NAMES,
        help="add and remove replicas during the run: threshold (production-style baseline) or ai (the "
        "design in llmsim/autoscalers/ai_autoscaler.py); default: none, the cluster stays fixed",
    )
    cluster.add_argument("--min-replicas", type=int, default=defaults.min_replicas, help="default 1")
    cluster.add_argument("--max-replicas", type=int, default=defaults.max_replicas, help="default 64")
    cluster.add_argument(
        "--cold-start",
        type=float,
        default=defaults.cold_start,
        help="seconds from adding a replica to serving (default 82: weights and compile caches on local disk)",
    )
    cluster.add_argument(
        "--autoscale-interval",
        type=float,
        default=defaults.autoscale_interval,
        help="seconds between autoscaler calls (default 15)",
    )
    run.add_argument(
        "--chunk-size", type=int, default=defaults.chunk_size, help="token budget (default 8192)"
    )
    run.add_argument("--batch-cap", type=int, default=defaults.batch_cap, help="max running requests (128)")
    run.add_argument("--num-blocks", type=int, help="KV blocks per replica (default: memory planner)")
    run.add_argument(
        "--no-skip-ahead",
        action="store_true",
        help="simulate every decode iteration one by one (same results, slower)",
    )
    run.add_argument(
        "--check-invariants", action="store_true", help="recheck KV accounting every batch (slow)"
    )
    run.add_argument(
        "--no-router-log",
        action="store_true",
        help="do not record gs_log.csv (every replica's state at every router call): same results, less "
        "time and disk on long runs with many replicas (run_autoscale.sh uses it)",
    )

    sub.add_parser(
        "check",
        help="what Glia's judge will say about the design: its static checks and one isolated run "
        "(python -m llmsim check --help)",
    )
    sub.add_parser(
        "runs",
        help="list result folders whose config.json matches KEY=VALUE settings (by config, not by time)",
    )
    gen = sub.add_parser(
        "generate", help="write a ShareGPT-like trace CSV (same as python -m llmsim.workload)"
    )
    add_generate_arguments(gen)
    return parser


def config_from_args(args: argparse.Namespace) -> SimulationConfig:
    return SimulationConfig(
        router=args.router,
        trace=args.trace,
        qps=args.qps,
        seed=args.seed,
        router_seed=args.router_seed,
        duration=args.duration,
        experiment=args.experiment,
        output_root=args.output_root,
        time_limit=args.time_limit,
        replica_scheduler=args.replica_scheduler,
        arrivals=args.arrivals,
        lengths=args.lengths,
        qps_low=args.qps_low,
        qps_high=args.qps_high,
        period=args.period,
        users=args.users,
        think_time=args.think_time,
        num_replicas=args.num_replicas,
        model=args.model,
        device=args.device,
        autoscaler=args.autoscaler,
        min_replicas=args.min_replicas,
        max_replicas=args.max_replicas,
        cold_start=args.cold_start,
        autoscale_interval=args.autoscale_interval,
        chunk_size=args.chunk_size,
        batch_cap=args.batch_cap,
        num_blocks=args.num_blocks,
        skip_ahead=not args.no_skip_ahead,
        check_invariants=args.check_invariants,
        router_log=not args.no_router_log,
    )


def print_summary(summary: dict, out) -> None:
    print(f"results: {out}")
    kept, total = summary.get("trace_requests_kept"), summary.get("trace_requests_total")
    if kept is not None and total is not None and kept < total:
        print(f"trace cut at {summary['duration']:g} s: {kept} of its {total} requests simulated")
    if not summary["valid"]:
        print(f"INVALID RUN: {summary['error']}")
        return
    print(
        f"requests {summary['num_completed']}/{summary['num_requests']} completed | "
        f"e2e mean {summary['mean_e2e']:.3f} s, p50 {summary['p50_e2e']:.3f}, p90 {summary['p90_e2e']:.3f}, "
        f"p99 {summary['p99_e2e']:.3f}"
    )
    print(
        f"restarted {100 * summary['frac_restarted']:.1f}% | mean scheduling delay "
        f"{summary['mean_scheduling_delay']:.3f} s | throughput {summary['throughput_rps']:.3f} req/s | "
        f"wall {summary['wall_time_s']:.2f} s"
    )
    print(
        f"ttft p90 {summary['p90_ttft']:.3f} s | slowdown mean {summary['mean_slowdown']:.2f}, "
        f"p95 {summary['p95_slowdown']:.2f} | GPU-hours {summary['gpu_hours']:.3f} "
        f"(at most {summary['max_replicas_used']} replicas)"
    )
    print(f"mean_e2e: {summary['mean_e2e']:.3f}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:  # the judge's checks and one isolated run (llmsim/check.py)
        from llmsim.check import main as check

        return check(argv[1:])
    if argv[:1] == ["runs"]:  # result folders by their settings (llmsim/find_runs.py)
        from llmsim.find_runs import main as runs

        return runs(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        return generate_command(args)
    config = config_from_args(args)
    try:
        out, summary = run_and_record(config)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_summary(summary, out)
    sys.stdout.flush()
    return 0 if summary["valid"] else 1
