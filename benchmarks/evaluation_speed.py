"""How long a trusted evaluation of a routing design takes: the routing task's 20 simulations (10 seeds of
the main workload, 5 + 5 held-out), the design (an LLQ copy) in a sandbox of its own, in Docker.

    python benchmarks/evaluation_speed.py                  # this checkout
    python benchmarks/evaluation_speed.py --vs /tmp/base   # then another checkout, the same way

Prints the evaluation's wall time (sandbox start-up included), the wall time of a second evaluation on
the same evaluator (a run's later evaluations: its sandboxes are kept and restarted, not created), the
simulations' summed CPU time as the simulator reports it (the core's process, plus the design
process's own report), the next evaluation's whole CPU time (the sandboxes' processes by the kernel's
count, start-up included, the evaluator's own, and the Docker engine's), the machine's load, and with
`--vs ROOT` the same figures for another Glia checkout (say `git worktree add /tmp/base 570646a`, the
commit before the speed work), run next in a subprocess that imports Glia from ROOT, and the ratios.
Both must give the same score, bit for bit. Target: 15 s of wall time on 2 quiet cores. The machine's
load is printed beside: on a shared machine wall time mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(workers: int, secrets: Path) -> dict:
    """One evaluation with the Glia found on sys.path; its figures as a dict. `secrets`: the seed key's
    folder, shared by both checkouts so that they draw the same secret seeds."""
    from glia.evaluation import Evaluator
    from glia.task_kinds import load_task

    root = Path(__import__("glia").__file__).resolve().parents[1]
    task = load_task(root / "tasks" / "llm_routing.md")
    design = (
        (root / "sim_repo_template/llmsim/global_schedulers/llq.py")
        .read_text()
        .replace("class LLQGlobalScheduler", "class AIGlobalScheduler")
        .replace('name = "llq"', 'name = "ai"')
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        Evaluator(
            task, Path(folder) / "run", workers=workers, secrets_dir=secrets, reuse_sandboxes=True
        ) as evaluator,  # as a run's evaluator does (glia/orchestrator/evaluator_setup.py)
    ):
        started = time.perf_counter()
        evaluation = evaluator.evaluate_design({task.design_files[0]: design}, "llq-copy")
        wall = time.perf_counter() - started
        if not evaluation.valid:
            raise SystemExit(f"the evaluation failed: {evaluation.reason}")
        # The next evaluation of a run: the evaluator's sandboxes are kept, restarted, not created.
        host, engine = _host_cpu(), _engine_cpu()
        started = time.perf_counter()
        again = evaluator.evaluate_design({task.design_files[0]: design}, "llq-copy-again")
        warm_wall = time.perf_counter() - started
        warm_boxes, warm_host, warm_engine = (
            _sandbox_cpu(evaluator),
            _host_cpu() - host,
            _engine_cpu() - engine,
        )
    if not again.valid or again.score != evaluation.score:
        raise SystemExit(f"the second evaluation differs: {again.reason or again.score!r}")
    seeds = [seed for workload in evaluation.workloads.values() for seed in workload.seeds]
    return {
        "root": str(root),
        "wall_s": wall,
        "warm_wall_s": warm_wall,
        "simulations": evaluation.simulations,
        "cpu_s": sum(seed.cpu_time_s or 0.0 for seed in seeds),
        "sim_wall_s": sum(seed.wall_time_s for seed in seeds),
        "score": evaluation.score,
        "load": os.getloadavg()[0],
        "warm_sandbox_cpu_s": warm_boxes,
        "warm_host_cpu_s": warm_host,
        "warm_engine_cpu_s": warm_engine,
    }


def _sandbox_cpu(evaluator) -> float:
    """CPU seconds used in the evaluator's kept sandboxes since their last restart (the start of the
    last evaluation), by the kernel's count: every process of every simulation, start-up included."""
    import docker

    pool = evaluator._pool  # noqa: SLF001 - the benchmark looks inside on purpose
    client = docker.from_env()
    try:
        boxes = [box for box in (pool.core, pool.design) if box is not None]
        stats = [client.containers.get(box.container_id).stats(stream=False) for box in boxes]
        return sum(item["cpu_stats"]["cpu_usage"]["total_usage"] for item in stats) / 1e9
    finally:
        client.close()


def _engine_cpu() -> float:
    """CPU seconds of the Docker engine's daemons on this machine (dockerd and containerd: each `docker
    exec` is several API calls to both); other sessions' Docker use counts too. Left out: the shims
    and the runc they start (a shim's reaped children are the exec'd commands, counted in the sandboxes)."""
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() not in ("dockerd", "containerd"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def _host_cpu() -> float:
    """CPU seconds of this process (the evaluator: Docker calls, reading and checking the results)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def show(figures: dict) -> None:
    print(
        f"{figures['root']}: {figures['simulations']} simulations in {figures['wall_s']:.1f} s wall, "
        f"{figures['warm_wall_s']:.1f} s the next evaluation on the same evaluator (its sandboxes kept) "
        f"(target <= 15 s on 2 quiet cores); simulations' CPU {figures['cpu_s']:.1f} s, their wall "
        f"{figures['sim_wall_s']:.1f} s; the next evaluation's CPU: sandboxes "
        f"{figures['warm_sandbox_cpu_s']:.1f} s + evaluator {figures['warm_host_cpu_s']:.1f} s + Docker "
        f"engine {figures.get('warm_engine_cpu_s', 0.0):.1f} s; "
        f"score {figures['score']!r}; load {figures['load']:.1f} on {os.cpu_count()} CPUs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="simulations at once (default 2)")
    parser.add_argument("--vs", type=Path, help="another Glia checkout, measured after this one")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # the --vs subprocess: the secrets
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.workers, args.json)))
        return 0
    with tempfile.TemporaryDirectory() as secrets:
        return compare(args, Path(secrets))


def compare(args: argparse.Namespace, secrets: Path) -> int:
    this = measure(args.workers, secrets)
    show(this)
    if args.vs:
        env = {**os.environ, "PYTHONPATH": str(args.vs.resolve())}
        output = subprocess.run(
            [sys.executable, __file__, "--json", str(secrets), "--workers", str(args.workers)],
            env=env, capture_output=True, text=True, check=True, cwd=args.vs,
        ).stdout  # fmt: skip
        other = json.loads(output.strip().splitlines()[-1])
        show(other)
        if other["score"] != this["score"]:
            print(f"SCORES DIFFER: {this['score']!r} here, {other['score']!r} there")
            return 1
        print(
            f"this / other: wall x{this['wall_s'] / other['wall_s']:.2f}, next evaluation's wall "
            f"x{this['warm_wall_s'] / other['warm_wall_s']:.2f}, "
            f"simulations' CPU x{this['cpu_s'] / other['cpu_s']:.2f}, next evaluation's CPU "
            f"(sandboxes + evaluator + engine) x{_warm_cpu(this) / _warm_cpu(other):.2f}"
        )
    return 0


def _warm_cpu(figures: dict) -> float:
    return figures["warm_sandbox_cpu_s"] + figures["warm_host_cpu_s"] + figures.get("warm_engine_cpu_s", 0.0)


if __name__ == "__main__":
    raise SystemExit(main())
