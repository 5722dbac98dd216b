"""Wall time and peak memory of one standard simulator benchmark run.

One run = `python -m llmsim run --router llq --trace data/processed_traces/sharegpt_7.5.csv`
(1000 s simulated at 7.5 QPS on 4 replicas), process start and result files included, pinned to
one core when `taskset` exists. Prints each run, then the median wall and CPU times and the peak RSS.
Target (issue 22): 0.5 s of CPU on a quiet machine; peak RSS < 500 MB.

Usage: python benchmarks/sim_speed.py [--runs 7] [--router llq] [--no-skip-ahead] [--vs OLD_TEMPLATE]
                                     [--compiled]

Sandboxes run Python with PYTHONDONTWRITEBYTECODE=1, so a run compiles the simulator's sources every
time unless they were compiled beforehand; the Researcher's workspace and the evaluation sandboxes now
compile them once. `--compiled` measures such a run (a copy of this simulator, compiled once), against
the `--vs` simulator run as before.

`--vs` runs the same benchmark with another copy of the simulator (the previous implementation:
`git worktree add /tmp/base 570646a`, the commit before the speed work of issue 22, then
`--vs /tmp/base/sim_repo_template`), the two in turn, and prints the medians and the median of the
pairwise ratios (this / other), which hold when the machine's speed drifts. The two must agree on
mean_e2e to the last digit. CPU time is the figure to compare on a shared machine (wall time there
mostly measures waiting for a core).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "sim_repo_template"


def one_run(
    router: str, extra: list[str], output_root: str, template: Path = TEMPLATE
) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one simulator process. CPU time (user + sys)
    is what the run costs on one core; wall time also counts waiting for a busy machine."""
    command = [
        sys.executable,
        "-m",
        "llmsim",
        "run",
        "--router",
        router,
        "--output-root",
        output_root,
        "--trace",
        "data/processed_traces/sharegpt_7.5.csv",
        *extra,
    ]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=template, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"simulator failed:\n{output}")
    score = output.strip().splitlines()[-1]  # `mean_e2e: <seconds>`
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, score  # Linux reports KiB


def compiled_copy(folder: Path) -> Path:
    """A copy of this simulator under `folder`, byte-compiled once, as the Researcher's workspace and the
    evaluation sandboxes compile theirs (a cache prefix would not do: it hides the stdlib's bytecode)."""
    copy = folder / "sim_repo_template"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("__pycache__", "simulator_results"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", "."], cwd=copy, check=True)
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--router", default="llq")
    parser.add_argument("--no-skip-ahead", action="store_true")
    parser.add_argument("--vs", type=Path, help="another simulator folder to compare with, run by run")
    parser.add_argument(
        "--compiled", action="store_true", help="byte-compile this simulator once first (not the --vs one)"
    )
    args = parser.parse_args()
    extra = ["--no-skip-ahead"] if args.no_skip_ahead else []
    walls, cpus, peaks = [], [], []
    other_walls, other_cpus = [], []
    with tempfile.TemporaryDirectory() as output_root, tempfile.TemporaryDirectory() as cache:
        template = compiled_copy(Path(cache)) if args.compiled else TEMPLATE
        for i in range(args.runs):
            wall, cpu, peak, score = one_run(args.router, extra, output_root, template)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
            line = f"run {i + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {peak:.0f} MB"
            if args.vs:
                other_wall, other_cpu, _, other_score = one_run(args.router, extra, output_root, args.vs)
                if other_score != score:
                    raise SystemExit(f"the two simulators disagree: {score} here, {other_score} in {args.vs}")
                other_walls.append(other_wall)
                other_cpus.append(other_cpu)
                line += f" | other: wall {other_wall:.2f} s, CPU {other_cpu:.2f} s"
            print(line)
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"median wall time: {statistics.median(walls):.2f} s")
    print(f"median CPU time: {statistics.median(cpus):.2f} s (target <= 0.5 s on a quiet machine)")
    print(f"peak RSS: {max(peaks):.0f} MB (target < 500 MB)")
    if args.vs:
        wall_ratio = statistics.median(a / b for a, b in zip(walls, other_walls, strict=True))
        cpu_ratio = statistics.median(a / b for a, b in zip(cpus, other_cpus, strict=True))
        print(
            f"vs {args.vs}: median wall {statistics.median(other_walls):.2f} s, CPU "
            f"{statistics.median(other_cpus):.2f} s; ratio (this / other): wall x{wall_ratio:.2f}, CPU x{cpu_ratio:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
