"""What isolating the design costs: one benchmark simulation with the router in the simulator's process
(the Researcher's runs) against the same simulation with the router in a process of its own, talking
over the glia_isolation channel (trusted evaluation; there the two processes also sit in two
containers, which adds container start-up once per evaluation, not per simulation).

    python benchmarks/isolation_cost.py                    # both designs, 3 runs each, 1000 s workload
    python benchmarks/isolation_cost.py --runs 5 --duration 300
    python benchmarks/isolation_cost.py --vs /tmp/base     # also the previous implementation, run by run

The figure that counts is CPU time (user + system) of every process doing the work: the simulator, and
when isolated the design host too. On a shared machine wall time mostly measures waiting for a core (an
isolated run needs both processes scheduled at each of its thousands of round trips), so it is printed
beside, not used. `--vs ROOT` takes another Glia checkout (say `git worktree add /tmp/base 570646a`, the
commit before this speed work) and runs its simulator and channel in turn with this one, printing the
medians and the median of the pairwise ratios (this / other), which hold while the machine's speed
drifts. Every run of a design must give the same mean_e2e, in process and isolated, here and there.
The last lines are the floor: what 7,500 bare blocking round trips cost on this machine, with no
encoding, no checks and no design code (the isolated run pays that once per decision), with the two
processes wherever the kernel puts them and both on one CPU (as an isolated run pins them now:
llmsim/cpu_share.py; set GLIA_SHARE_CPU=0 to see a run without).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
DESIGNS = {
    "llq-like": (REPO / "sim_repo_template/llmsim/global_schedulers/llq.py")
    .read_text()
    .replace("class LLQGlobalScheduler", "class AIGlobalScheduler"),
    "head-room (reads replica lists, holds requests)": (
        REPO / "tests/fixtures/designs/headroom_router.py"
    ).read_text(),
}


def cpu_of(process: subprocess.Popen) -> tuple[int, float]:
    """(exit status, CPU seconds) of a finished child, reaped here."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def one_run(repo: Path, isolated: bool, duration: float) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of every process, mean_e2e) of one simulation."""
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
    core = subprocess.Popen(
        [sys.executable, "-m", "llmsim", "run", "--router", "ai", "--duration", f"{duration:g}",
         "--output-root", str(out)],
        cwd=repo, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    status, cpu = cpu_of(core)
    if host is not None:
        host_status, host_cpu = cpu_of(host)
        cpu += host_cpu
        status = status or host_status
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"a simulation in {repo} failed (exit status {status})")
    (summary,) = out.glob("*/*/summary.json")
    score = json.loads(summary.read_text())["mean_e2e"]
    shutil.rmtree(out)
    return wall, cpu, score


def prepare(root: Path, folder: Path) -> Path:
    """A simulator repository as Glia gives it to an evaluation: the template plus .glia/lib/glia_isolation."""
    repo = folder / "repo"
    ignore = shutil.ignore_patterns("simulator_results", "__pycache__")
    shutil.copytree(root / "sim_repo_template", repo, ignore=ignore)
    shutil.copytree(root / "glia" / "isolation", repo / ".glia" / "lib" / "glia_isolation", ignore=ignore)
    return repo


def round_trip_floor(trips: int = 7500, work_s: float = 40e-6, cpu: int | None = None) -> tuple[float, float]:
    """(CPU seconds of both processes beyond the answering side's own work, wall seconds) of `trips`
    bare blocking round trips over a socketpair, the answering process working `work_s` per trip as a
    design does: what one blocking round trip per decision costs on this machine before any encoding,
    checking or design code (a VM's wake-ups cost far more than a bare-metal machine's). With `cpu`,
    both processes are pinned to that CPU, as an isolated run pins them (llmsim/cpu_share.py)."""
    allowed = os.sched_getaffinity(0)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    left, right = socket.socketpair()
    started = time.perf_counter()
    child = os.fork()
    if child == 0:  # the answering side: wait for a message, work, answer
        left.close()
        for _ in range(trips):
            data = right.recv(65536)
            spin = time.perf_counter()
            while time.perf_counter() - spin < work_s:
                pass
            right.sendall(data)
        os._exit(0)
    right.close()
    used = time.process_time()
    message = b"x" * 200
    for _ in range(trips):
        left.sendall(message)
        left.recv(65536)
    used = time.process_time() - used
    _, _, usage = os.wait4(child, 0)
    left.close()
    os.sched_setaffinity(0, allowed)
    return used + usage.ru_utime + usage.ru_stime - trips * work_s, time.perf_counter() - started


def ratio(these: list[float], those: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(these, those, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated seconds (default 1000)")
    parser.add_argument("--vs", type=Path, help="another Glia checkout to compare with, run by run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        repos = {"this": prepare(REPO, Path(folder) / "this")}
        if args.vs:
            repos["other"] = prepare(args.vs, Path(folder) / "other")
        print(
            f"{args.runs} runs each, {args.duration:g} simulated s, {os.cpu_count()} CPUs, load "
            f"{os.getloadavg()[0]:.1f}; medians; CPU = all processes of the run"
        )
        for name, text in DESIGNS.items():
            runs: dict[tuple[str, bool], list[tuple[float, float, float]]] = {}
            for repo in repos.values():
                (repo / DESIGN).write_text(text)
            for _ in range(args.runs):  # interleaved, so drifting load hits every variant alike
                for label, repo in repos.items():
                    for isolated in (False, True):
                        runs.setdefault((label, isolated), []).append(one_run(repo, isolated, args.duration))
            scores = {score for results in runs.values() for _, _, score in results}
            if len(scores) != 1:
                print(f"  {name}: RESULTS DIFFER: {sorted(scores)}")
                return 1
            print(f"  {name} (mean_e2e {scores.pop():.6f} in every run)")
            for label in repos:
                local, remote = runs[(label, False)], runs[(label, True)]
                local_cpu, remote_cpu = [c for _, c, _ in local], [c for _, c, _ in remote]
                print(
                    f"    {label:5s}: in process CPU {statistics.median(local_cpu):5.2f} s | isolated CPU "
                    f"{statistics.median(remote_cpu):5.2f} s | isolation x{ratio(remote_cpu, local_cpu):.2f} "
                    f"(wall {statistics.median(w for w, _, _ in local):5.2f} s / "
                    f"{statistics.median(w for w, _, _ in remote):5.2f} s)"
                )
            if args.vs:
                for isolated, what in ((False, "in process"), (True, "isolated")):
                    these = [c for _, c, _ in runs[("this", isolated)]]
                    those = [c for _, c, _ in runs[("other", isolated)]]
                    print(f"    this / other, {what} CPU: x{ratio(these, those):.2f}")
    cpus = sorted(os.sched_getaffinity(0))
    for cpu, where in ((None, "wherever the kernel puts them"), (cpus[0], f"both on CPU {cpus[0]}")):
        floor_cpu, floor_wall = round_trip_floor(cpu=cpu)
        print(
            f"  floor, {where}: 7500 bare round trips over a socketpair (the answering side working 40 us "
            f"each) cost {floor_cpu:.2f} s of CPU beyond that work ({floor_wall:.2f} s wall), load "
            f"{os.getloadavg()[0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
