"""Wall time and peak memory of one standard simulator benchmark run.

One run = `python -m llmsim run --router llq --trace data/processed_traces/sharegpt_7.5.csv`
(1000 s simulated at 7.5 QPS on 4 replicas), process start and result files included, pinned to
one core when `taskset` exists. Prints each run, then the median wall time and the peak RSS.
Target: median <= 2 s, peak RSS < 500 MB.

Usage: python benchmarks/sim_speed.py [--runs 7] [--router llq] [--no-skip-ahead]
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


def one_run(router: str, extra: list[str], output_root: str) -> tuple[float, float, float]:
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
    process = subprocess.Popen(command, cwd=TEMPLATE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = process.stdout.read().decode()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"simulator failed:\n{output}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--router", default="llq")
    parser.add_argument("--no-skip-ahead", action="store_true")
    args = parser.parse_args()
    extra = ["--no-skip-ahead"] if args.no_skip_ahead else []
    walls, cpus, peaks = [], [], []
    with tempfile.TemporaryDirectory() as output_root:
        for i in range(args.runs):
            wall, cpu, peak = one_run(args.router, extra, output_root)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
            print(f"run {i + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak RSS {peak:.0f} MB")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"median wall time: {statistics.median(walls):.2f} s (target <= 2 s)")
    print(f"median CPU time: {statistics.median(cpus):.2f} s")
    print(f"peak RSS: {max(peaks):.0f} MB (target < 500 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
