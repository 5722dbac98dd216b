"""Per-run cost of the stack tasks' benchmarks, and what isolating the design adds to it.

For each task (batch scheduling, autoscaling, SLO routing) one benchmark simulation (the task's own
`./run_*.sh` settings, seed 0) runs with the task's head-room design (tests/fixtures/designs/) in the
simulator's process, as the Researcher's runs do, and then with the design in a process of its own
behind the glia_isolation channel, as trusted evaluation runs it (there the two processes also sit in two
containers, which adds container start-up once per evaluation, not per simulation). Method of
benchmarks/isolation_cost.py: median wall time of whole processes, and both runs must give identical
per-request records. Also prints the design calls each run made (channel round trips when isolated).

    python benchmarks/stack_cost.py                 # every task, 3 runs each
    python benchmarks/stack_cost.py --runs 1 --tasks slo_routing
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

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "sim_repo_template"
FIXTURES = REPO / "tests" / "fixtures" / "designs"
TASKS = {
    # task: (benchmark script, design file, head-room fixture)
    "batch_scheduling": ("run_batch.sh", "llmsim/replica_schedulers/ai_replica_scheduler.py", "spf_replica_scheduler.py"),
    "autoscaling": ("run_autoscale.sh", "llmsim/autoscalers/ai_autoscaler.py", "inflight_autoscaler.py"),
    "slo_routing": ("run_slo.sh", "llmsim/global_schedulers/ai_global_scheduler.py", "late_binding_router.py"),
}  # fmt: skip


def one_run(repo: Path, script: str, isolated: bool) -> tuple[float, str, int]:
    """(wall seconds of the whole run, request_metrics.csv text, design calls) of one simulation."""
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
    subprocess.run(
        [f"./{script}", "--output-root", str(out)], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL
    )
    if host is not None:
        host.wait(timeout=60)
    wall = time.perf_counter() - started
    (run_dir,) = out.glob("*/*")
    summary = json.loads((run_dir / "summary.json").read_text())
    if not summary["valid"]:
        raise SystemExit(f"{script}: invalid run: {summary['error']}")
    records = (run_dir / "request_metrics.csv").read_text()
    shutil.rmtree(out)
    calls = summary["num_scheduler_calls"] or summary["num_autoscaler_calls"] or summary["num_router_calls"]
    return wall, records, int(calls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tasks", default=",".join(TASKS))
    args = parser.parse_args()
    print(f"{args.runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; median wall time")
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns("simulator_results", "__pycache__"))
        shutil.copytree(REPO / "glia" / "isolation", repo / ".glia" / "lib" / "glia_isolation")
        pristine = {design: (repo / design).read_text() for _, design, _ in TASKS.values()}
        for name in args.tasks.split(","):
            script, design, fixture = TASKS[name]
            for path, text in pristine.items():
                (repo / path).write_text(text)
            (repo / design).write_text((FIXTURES / fixture).read_text())
            local = [one_run(repo, script, False) for _ in range(args.runs)]
            remote = [one_run(repo, script, True) for _ in range(args.runs)]
            if {r for _, r, _ in local} != {r for _, r, _ in remote}:
                print(f"  {name}: RESULTS DIFFER between the two processes")
                return 1
            in_process = statistics.median(w for w, _, _ in local)
            isolated = statistics.median(w for w, _, _ in remote)
            print(
                f"  {name:17s} ./{script:17s} in process {in_process:6.2f} s | isolated {isolated:6.2f} s | "
                f"x{isolated / in_process:.2f} | {local[0][2]} design calls | identical records"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
