"""How the Ray cluster backend scales on this machine: sandbox start time and trusted-evaluation
throughput against the number of nodes, and the added latency of a command in a remote sandbox against
a local one.

Each local node is a `ray start` with one CPU; all nodes share this machine's one Docker engine and its
cores, so the figures show the cluster's overhead and its queueing, not the gain of real machines (each
with its own engine and cores). For sandbox starts each node declares one slot; for evaluations two (a
lane: the core and the design sandbox of one simulation at a time), and the evaluator's lanes are
started and warmed by a first evaluation, then a second one is timed (as in a run, which keeps them).
Run: `PYTHONPATH=$PWD python benchmarks/cluster_scaling.py` (`--evaluation-only` for the second part).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glia.evaluation import Evaluator  # noqa: E402
from glia.evaluation.secrets import SeedKey  # noqa: E402
from glia.task_kinds import load_task  # noqa: E402
from glia.workspace import DEFAULT_IMAGE, create_workspace  # noqa: E402
from tests.cluster.conftest import local_cluster  # noqa: E402
from tests.cluster.test_cluster_evaluation import ROUTER  # noqa: E402
from tests.orchestrator.e2e_support import DESIGN, write_quick_task  # noqa: E402


def command_latency(backend: str, folder: Path, repeats: int) -> float:
    """Median seconds of `true` in one started sandbox of `backend`."""
    workspace = create_workspace(
        backend, folder / backend, "bench-latency", f"ctx-{backend}", image=DEFAULT_IMAGE
    )
    with workspace:
        workspace.exec("true")  # warm
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            workspace.exec("true")
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def start_sandboxes(folder: Path, count: int) -> float:
    """Seconds to start (and run one command in) `count` sandboxes at once on the cluster."""

    def one(index: int) -> None:
        workspace = create_workspace(
            "ray", folder / f"s{index}", "bench-start", f"ctx-{index}", image=DEFAULT_IMAGE
        )
        with workspace:
            workspace.exec("true")

    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def evaluation_seconds(folder: Path, seeds: int) -> tuple[float, int]:
    """Seconds of a warm trusted evaluation of a hosted design with `seeds` simulations; lanes used."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_quick_task(folder)
    seed_list = ", ".join(str(n) for n in range(seeds))
    path.write_text(path.read_text().replace("seeds: [0]", f"seeds: [{seed_list}]"))
    task = load_task(path)
    key = SeedKey.load_or_create(folder / ".secrets")
    with Evaluator(task, folder / "eval", backend="ray", seed_key=key, reuse_sandboxes=True) as evaluator:
        evaluator.evaluate_design({DESIGN: ROUTER}, "warm-up")  # starts the lanes' containers
        started = time.perf_counter()
        result = evaluator.evaluate_design({DESIGN: ROUTER}, "timed")
        seconds = time.perf_counter() - started
        assert result.valid, result.reason
        return seconds, evaluator.workers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--sandboxes", type=int, default=3, help="sandboxes started at once")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=6, help="simulations of the timed evaluation")
    parser.add_argument("--evaluation-only", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="glia-cluster-bench-"))
    evaluations = []
    for nodes in args.nodes:
        with local_cluster(workers=nodes - 1, slots=2):
            seconds, lanes = evaluation_seconds(folder / f"e{nodes}", args.seeds)
            evaluations.append((nodes, lanes, seconds))
    print(f"trusted evaluation of a hosted design, {args.seeds} simulations, lanes kept (warm):")
    base_eval = evaluations[0][2]
    for nodes, lanes, seconds in evaluations:
        print(
            f"  nodes {nodes} ({lanes} lanes): {seconds:6.1f} s   {args.seeds / seconds:5.2f} simulations/s   "
            f"speed-up x{base_eval / seconds:.2f}"
        )
    if args.evaluation_only:
        return
    rows = []
    latency = None
    for nodes in args.nodes:
        with local_cluster(workers=nodes - 1, slots=1):
            seconds = start_sandboxes(folder / f"n{nodes}", args.sandboxes)
            rows.append((nodes, seconds))
            if latency is None:
                latency = (
                    command_latency("docker", folder, args.repeats),
                    command_latency("ray", folder, args.repeats),
                )
    print(f"{args.sandboxes} sandboxes started at once, one slot per node (shared Docker engine):")
    base = rows[0][1]
    for nodes, seconds in rows:
        print(f"  nodes {nodes}: {seconds:6.1f} s   speed-up x{base / seconds:.2f}")
    if latency:
        local, remote = latency
        print(
            f"command `true`, median of {args.repeats}: local docker {local * 1000:.0f} ms, "
            f"ray sandbox {remote * 1000:.0f} ms, added {(remote - local) * 1000:.0f} ms (x{remote / local:.2f})"
        )


if __name__ == "__main__":
    main()
