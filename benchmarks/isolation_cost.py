"""What isolating the design costs: one benchmark simulation with the router in the simulator's process
(the Researcher's runs) against the same simulation with the router in a process of its own, talking
over the glia_isolation channel (trusted evaluation; there the two processes also sit in two
containers, which adds container start-up once per evaluation, not per simulation).

    python benchmarks/isolation_cost.py                    # both designs, 3 runs each, 1000 s workload
    python benchmarks/isolation_cost.py --runs 5 --duration 300

Prints the median wall time of each and their ratio. Both runs must give identical results; the script
checks that too.
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
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
DESIGNS = {
    "llq-like": (TEMPLATE / "llmsim/global_schedulers/llq.py")
    .read_text()
    .replace("class LLQGlobalScheduler", "class AIGlobalScheduler"),
    "head-room (reads replica lists, holds requests)": (
        REPO / "tests/fixtures/designs/headroom_router.py"
    ).read_text(),
}


def one_run(repo: Path, isolated: bool, duration: float) -> tuple[float, float]:
    """(wall seconds of the whole run, mean_e2e) of one simulation."""
    env = {**os.environ, "PYTHONPATH": str(repo / ".glia" / "lib")}
    env.pop("GLIA_LEDGER", None)
    env.pop("GLIA_DESIGN_ENDPOINT", None)
    out = Path(tempfile.mkdtemp(dir=repo))
    started = time.perf_counter()
    host = None
    if isolated:
        endpoint = str(out / "design.sock")
        env["GLIA_DESIGN_ENDPOINT"] = endpoint
        host = subprocess.Popen(
            [sys.executable, "-m", "llmsim.design_host", "--listen", endpoint], cwd=repo, env=env
        )
    subprocess.run(
        [sys.executable, "-m", "llmsim", "run", "--router", "ai", "--duration", f"{duration:g}",
         "--output-root", str(out)],
        cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    if host is not None:
        host.wait(timeout=60)
    wall = time.perf_counter() - started
    (summary,) = out.glob("*/*/summary.json")
    score = json.loads(summary.read_text())["mean_e2e"]
    shutil.rmtree(out)
    return wall, score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated seconds (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns("simulator_results", "__pycache__"))
        shutil.copytree(REPO / "glia" / "isolation", repo / ".glia" / "lib" / "glia_isolation")
        print(
            f"{args.runs} runs each, {args.duration:g} simulated s, {os.cpu_count()} CPUs; median wall time"
        )
        for name, text in DESIGNS.items():
            (repo / DESIGN).write_text(text)
            local = [one_run(repo, False, args.duration) for _ in range(args.runs)]
            remote = [one_run(repo, True, args.duration) for _ in range(args.runs)]
            if {score for _, score in local} != {score for _, score in remote}:
                print(f"  {name}: RESULTS DIFFER {local} vs {remote}")
                return 1
            in_process = statistics.median(w for w, _ in local)
            isolated = statistics.median(w for w, _ in remote)
            print(
                f"  {name:48s} in process {in_process:6.2f} s | isolated {isolated:6.2f} s | "
                f"x{isolated / in_process:.2f} | mean_e2e {local[0][1]:.3f} in both"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
