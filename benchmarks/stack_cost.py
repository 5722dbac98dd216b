"""Per-run cost of the stack tasks' benchmarks, and what isolating the design adds to it.

For each task (batch scheduling, autoscaling, SLO routing) one benchmark simulation (the task's own
`./run_*.sh` settings, seed 0) runs with the task's head-room design (tests/fixtures/designs/) in the
simulator's process, as the Researcher's runs do, and then with the design in a process of its own
behind the glia_isolation channel, as trusted evaluation runs it (there the two processes also sit in two
containers, which adds container start-up once per evaluation, not per simulation). Method of
benchmarks/isolation_cost.py: median CPU time of every process of a run (wall time beside), and every
run must give identical per-request records. Also prints the design calls each run made (channel round
trips when isolated). `--vs ROOT` runs another Glia checkout's simulator and channel in turn with this
one and prints the pairwise ratios (see isolation_cost.py).

    python benchmarks/stack_cost.py                 # every task, 3 runs each
    python benchmarks/stack_cost.py --runs 1 --tasks slo_routing
    python benchmarks/stack_cost.py --vs /tmp/base  # against the previous implementation
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isolation_cost import cpu_of, prepare, ratio  # the same method, one home

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "designs"
TASKS = {
    # task: (benchmark script, design file, head-room fixture)
    "batch_scheduling": ("run_batch.sh", "llmsim/replica_schedulers/ai_replica_scheduler.py", "spf_replica_scheduler.py"),
    "autoscaling": ("run_autoscale.sh", "llmsim/autoscalers/ai_autoscaler.py", "inflight_autoscaler.py"),
    "slo_routing": ("run_slo.sh", "llmsim/global_schedulers/ai_global_scheduler.py", "late_binding_router.py"),
}  # fmt: skip


def one_run(repo: Path, script: str, isolated: bool) -> tuple[float, float, str, int]:
    """(wall seconds, CPU seconds of every process, request_metrics.csv text, design calls) of one run."""
    env = {**os.environ, "PYTHONPATH": str(repo / ".glia" / "lib")}
    env.pop("GLIA_LEDGER", None)
    env.pop("GLIA_DESIGN_ENDPOINT", None)
    out = Path(tempfile.mkdtemp(dir=repo))
    host = None
    started = time.perf_counter()
    if isolated:
        endpoint = str(out / "design.sock")
        env["GLIA_DESIGN_ENDPOINT"] = endpoint
        host = subprocess.Popen(
            [sys.executable, "-m", "llmsim.design_host", "--listen", endpoint], cwd=repo, env=env
        )
    core = subprocess.Popen(
        [f"./{script}", "--output-root", str(out)], cwd=repo, env=env, stdout=subprocess.DEVNULL
    )
    status, cpu = cpu_of(core)
    if host is not None:
        host_status, host_cpu = cpu_of(host)
        cpu += host_cpu
        status = status or host_status
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{script} in {repo} failed (exit status {status})")
    (run_dir,) = out.glob("*/*")
    summary = json.loads((run_dir / "summary.json").read_text())
    if not summary["valid"]:
        raise SystemExit(f"{script}: invalid run: {summary['error']}")
    records = (run_dir / "request_metrics.csv").read_text()
    shutil.rmtree(out)
    calls = summary["num_scheduler_calls"] or summary["num_autoscaler_calls"] or summary["num_router_calls"]
    return wall, cpu, records, int(calls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--vs", type=Path, help="another Glia checkout to compare with, run by run")
    args = parser.parse_args()
    print(f"{args.runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; medians")
    with tempfile.TemporaryDirectory() as folder:
        repos = {"this": prepare(REPO, Path(folder) / "this")}
        if args.vs:
            repos["other"] = prepare(args.vs, Path(folder) / "other")
        pristine = {
            label: {design: (repo / design).read_text() for _, design, _ in TASKS.values()}
            for label, repo in repos.items()
        }
        for name in args.tasks.split(","):
            script, design, fixture = TASKS[name]
            for label, repo in repos.items():
                for path, text in pristine[label].items():
                    (repo / path).write_text(text)
                (repo / design).write_text((FIXTURES / fixture).read_text())
            runs: dict[tuple[str, bool], list[tuple[float, float, str, int]]] = {}
            for _ in range(args.runs):  # interleaved, so drifting load hits every variant alike
                for label, repo in repos.items():
                    for isolated in (False, True):
                        runs.setdefault((label, isolated), []).append(one_run(repo, script, isolated))
            if len({records for results in runs.values() for _, _, records, _ in results}) != 1:
                print(f"  {name}: RESULTS DIFFER between the runs")
                return 1
            calls = runs[("this", False)][0][3]
            print(f"  {name} (./{script}, {calls} design calls, identical records in every run)")
            for label in repos:
                local = [cpu for _, cpu, _, _ in runs[(label, False)]]
                remote = [cpu for _, cpu, _, _ in runs[(label, True)]]
                print(
                    f"    {label:5s}: in process CPU {statistics.median(local):6.2f} s | isolated CPU "
                    f"{statistics.median(remote):6.2f} s | isolation x{ratio(remote, local):.2f} (wall "
                    f"{statistics.median(w for w, *_ in runs[(label, False)]):6.2f} s / "
                    f"{statistics.median(w for w, *_ in runs[(label, True)]):6.2f} s)"
                )
            if args.vs:
                for isolated, what in ((False, "in process"), (True, "isolated")):
                    these = [cpu for _, cpu, _, _ in runs[("this", isolated)]]
                    those = [cpu for _, cpu, _, _ in runs[("other", isolated)]]
                    print(f"    this / other, {what} CPU: x{ratio(these, those):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
