"""Command line: `python -m llmsim run ...` simulates, `python -m llmsim generate ...` writes a trace."""

from __future__ import annotations

import argparse
import sys

from llmsim.config import SimulationConfig
from llmsim.global_schedulers.registry import ROUTERS
from llmsim.replica_schedulers import REPLICA_SCHEDULERS
from llmsim.runner import run_and_record
from llmsim.workload import add_generate_arguments, generate_command

DESCRIPTION = """\
Simulate a cluster of GPU replicas serving LLM inference (default: 4 x A10, Llama-3-8B,
Sarathi chunked prefill with 8192-token chunks, 2254 KV blocks of 16 tokens per replica).

Each run writes simulator_results/<experiment>/<timestamp>/ with config.json, summary.json,
request_metrics.csv (one row per request), gs_log.csv (replica state at every router call) and
reqs_log.csv (one row per routing decision). The last line of a valid run is `mean_e2e: <seconds>`.
An invalid run (router error, reading decode lengths, unfinished requests, safety limit) writes
summary.json with valid=false and the error, and exits with status 1.
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
        help="workload seed when generating; also seeds randomised routers (default 0)",
    )
    run.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds of arrivals when generating (default 1000)",
    )
    run.add_argument("--experiment", help="result sub-folder name (default <trace>_<router>)")
    run.add_argument("--output-root", default=defaults.output_root, help="default simulator_results")
    run.add_argument(
        "--time-limit",
        type=float,
        default=defaults.time_limit,
        help="wall-clock safety limit in seconds (default 600)",
    )
    run.add_argument(
        "--replica-scheduler",
        default=defaults.replica_scheduler,
        choices=sorted(REPLICA_SCHEDULERS),
        help="batch scheduler (default sarathi)",
    )
    run.add_argument("--num-replicas", type=int, default=defaults.num_replicas, help="default 4")
    run.add_argument("--device", default=defaults.device, choices=["a10", "a100"], help="default a10")
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
        duration=args.duration,
        experiment=args.experiment,
        output_root=args.output_root,
        time_limit=args.time_limit,
        replica_scheduler=args.replica_scheduler,
        num_replicas=args.num_replicas,
        device=args.device,
        chunk_size=args.chunk_size,
        batch_cap=args.batch_cap,
        num_blocks=args.num_blocks,
        skip_ahead=not args.no_skip_ahead,
        check_invariants=args.check_invariants,
    )


def print_summary(summary: dict, out) -> None:
    print(f"results: {out}")
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
    print(f"mean_e2e: {summary['mean_e2e']:.3f}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        return generate_command(args)
    config = config_from_args(args)
    out, summary = run_and_record(config)
    print_summary(summary, out)
    sys.stdout.flush()
    return 0 if summary["valid"] else 1
