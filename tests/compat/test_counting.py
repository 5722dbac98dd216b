"""A simulator that reports nothing to Glia's ledger still has a budget: each benchmark command counts.

`folders/uncounted_sim/` is a simulator of our own that knows nothing of Glia (no ledger client), with
the ways in a simulator's README documents: `python run.py`, `bash run.sh`, `./run.sh`, `python -m
queuesim`, `python -m queuesim.bench`, `make bench`. For each as the task's benchmark command, the task's
template holds Glia's stand-in for the file it runs (or a named command `./glia_bench` for `make`); the
runs here go through a real ledger over its real unix socket, with a real budget, as in a context's
sandbox, typed the way the simulator's README says.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glia.agents.ledger import SimulationLedger
from glia.budget import Budget
from glia.record.transcript import Transcript
from glia.task import BudgetLimits, Task
from glia.task_kinds import load_task
from tests.agents.ledger_helpers import FakeSnapshots, wait_until
from tests.compat.conftest import FOLDERS

TASK = FOLDERS / "uncounted_sim.md"
AUTHOR = FOLDERS / "uncounted_sim"
ROUTES = [  # the task's benchmark command -> the file Glia's copy replaces, kept as ORIGINAL
    ("python run.py --seed 0", "run.py", "run.uncounted.py"),
    ("bash run.sh --seed 0", "run.sh", "run.uncounted.sh"),
    ("./run.sh --seed 0", "run.sh", "run.uncounted.sh"),
    ("python -m queuesim --seed 0", "queuesim/__main__.py", "queuesim/__main__.uncounted.py"),
    ("python -m queuesim.bench --seed 0", "queuesim/bench.py", "queuesim/bench.uncounted.py"),
]


def task_with(tmp_path: Path, command: str) -> Task:
    (tmp_path / "uncounted_sim").symlink_to(AUTHOR)
    path = tmp_path / "task.md"
    path.write_text(TASK.read_text().replace("command: python run.py --seed 0", f"command: {command}"))
    return load_task(path)


def run(work: Path, route: list[str], ledger: Path | None, *options: str) -> subprocess.CompletedProcess[str]:
    """`route` as the Researcher types it in the sandbox (`python` is this interpreter)."""
    env = {k: v for k, v in os.environ.items() if k != "GLIA_LEDGER"}
    if ledger is not None:
        env["GLIA_LEDGER"] = str(ledger)
    argv = [sys.executable if word == "python" else word for word in route]
    return subprocess.run([*argv, *options], cwd=work, env=env, capture_output=True, text=True, timeout=60)


def a_ledger(
    tmp_path: Path, task: Task, simulations: int
) -> tuple[SimulationLedger, Path, Transcript, FakeSnapshots]:
    transcript = Transcript(tmp_path / "transcript.jsonl")
    snapshots = FakeSnapshots()
    ledger = SimulationLedger(
        Budget(BudgetLimits(simulations=simulations)),
        transcript,
        snapshots,
        task.metric,
        task.benchmark.conditions,
    )
    return ledger, ledger.listen(tmp_path), transcript, snapshots


@pytest.mark.parametrize(("command", "replaced", "original"), ROUTES, ids=[r[0] for r in ROUTES])
def test_each_benchmark_command_counts_as_one_simulation_and_the_budget_holds(
    tmp_path: Path, command: str, replaced: str, original: str
) -> None:
    task = task_with(tmp_path, command)
    route = shlex.split(command)[:-2]  # without `--seed 0`: the options are the Researcher's
    assert task.simulator != AUTHOR and not (AUTHOR / original).exists()  # never written to
    assert (task.simulator / original).read_bytes() == (AUTHOR / replaced).read_bytes()
    assert task.benchmark.command == command and f"each run of `{command}` as one simulation" in task.body
    work = Path(shutil.copytree(task.simulator, tmp_path / "work", symlinks=True))
    # outside Glia the stand-in is the author's route: the same output, byte for byte
    alone = run(Path(shutil.copytree(AUTHOR, tmp_path / "author")), route, None, "--seed", "3")
    assert alone.returncode == 0, alone.stderr
    assert run(work, route, None, "--seed", "3").stdout == alone.stdout

    ledger, socket_path, transcript, snapshots = a_ledger(tmp_path, task, simulations=2)
    try:
        claim = run(work, route, socket_path, "--policy", "policy", "--seed", "0")
        experiment = run(work, route, socket_path, "--seed", "1", "--experiment", "other")
        assert claim.returncode == 0 and experiment.returncode == 0, claim.stderr + experiment.stderr
        refused = run(work, route, socket_path, "--seed", "2")  # the budget of 2 is spent: it must not run
        wait_until(lambda: ledger.running == 0)
        assert ledger.count == 2 and len(snapshots.messages) == 2
        assert refused.returncode == 1 and "Glia refused this run" in refused.stderr
        assert not (work / "results" / "bench" / "seed-2").exists()
        first, second = ledger.records
        assert first.is_claim and not second.is_claim  # `benchmark.conditions: {policy: policy}`
        assert first.conditions == {"policy": "policy", "seed": 0} and first.valid and first.ended
        assert first.claimed_score == json.loads(claim.stdout)["mean_wait"]
        assert (
            second.values is not None
            and second.values["mean_wait"] == json.loads(experiment.stdout)["mean_wait"]
        )
    finally:
        ledger.close()
        transcript.close()


def test_a_module_stand_in_imported_is_the_authors_module_and_counts_nothing(tmp_path: Path) -> None:
    """`run.py` imports queuesim.bench: in the copy counting `python -m queuesim.bench`, importing the
    stand-in is the module itself (same output, nothing reported); only the -m route counts."""
    task = task_with(tmp_path, "python -m queuesim.bench --seed 0")
    work = Path(shutil.copytree(task.simulator, tmp_path / "work"))
    ledger, socket_path, transcript, _ = a_ledger(tmp_path, task, simulations=5)
    try:
        imported = run(work, ["python", "run.py"], socket_path, "--seed", "4")
        alone = run(
            Path(shutil.copytree(AUTHOR, tmp_path / "author")), ["python", "run.py"], None, "--seed", "4"
        )
        assert imported.returncode == 0 and imported.stdout == alone.stdout, imported.stderr
        assert ledger.count == 0
        assert (
            run(work, ["python", "-m", "queuesim.bench"], socket_path, "--seed", "4").stdout == alone.stdout
        )
        wait_until(lambda: ledger.running == 0)
        assert ledger.count == 1 and ledger.records[0].conditions == {"seed": 4}
    finally:
        ledger.close()
        transcript.close()


def test_a_command_naming_no_file_of_the_simulator_gets_a_named_command_that_counts(tmp_path: Path) -> None:
    """`make bench` names no file Glia can stand in for: Glia's own benchmark runs use `./glia_bench`,
    which counts and runs `make bench` unchanged; `make bench` typed directly is not counted by the
    ledger (the sandbox's CPU time still bounds it), and the Researcher's brief says so."""
    task = task_with(tmp_path, "make bench")
    assert task.benchmark.command == "./glia_bench"
    assert "counts each run of `./glia_bench`" in task.body and "`make bench`, unchanged" in task.body
    assert not (AUTHOR / "glia_bench").exists()
    work = Path(shutil.copytree(task.simulator, tmp_path / "work"))
    ledger, socket_path, transcript, _ = a_ledger(tmp_path, task, simulations=1)
    try:
        counted = run(work, ["./glia_bench"], socket_path)
        assert counted.returncode == 0, counted.stderr
        refused = run(work, ["./glia_bench"], socket_path)
        wait_until(lambda: ledger.running == 0)
        assert refused.returncode == 1 and "Glia refused this run" in refused.stderr
        (record,) = ledger.records
        assert record.values is not None and record.valid
        assert record.values["mean_wait"] == json.loads(counted.stdout.splitlines()[-1])["mean_wait"]
        direct = run(work, ["make", "bench"], socket_path)
        assert direct.returncode == 0 and ledger.count == 1  # bypassing the named command: not counted
    finally:
        ledger.close()
        transcript.close()


def test_a_command_glia_cannot_wrap_is_left_to_the_cpu_time_bound(tmp_path: Path) -> None:
    """A script the command names but the simulator lacks (made at run time), and a command naming no
    file when `glia_bench` is a file of the simulator already: left as they are."""
    (tmp_path / "uncounted_sim").symlink_to(AUTHOR)
    for command in ("./run_all.sh", "bash made_later.sh", "python -m queuesim.absent"):
        path = tmp_path / "task.md"
        path.write_text(TASK.read_text().replace("command: python run.py --seed 0", f"command: {command}"))
        task = load_task(path)
        assert task.simulator == AUTHOR.resolve() and task.benchmark.command == command
    taken = Path(shutil.copytree(AUTHOR, tmp_path / "taken"))
    (taken / "glia_bench").write_text("#!/bin/sh\n")
    path.write_text(
        TASK.read_text()
        .replace("command: python run.py --seed 0", "command: make bench")
        .replace("simulator: uncounted_sim", "simulator: taken")
    )
    task = load_task(path)
    assert task.simulator == taken.resolve() and task.benchmark.command == "make bench"
