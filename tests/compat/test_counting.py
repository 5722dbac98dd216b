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


# Commands as READMEs type them: assignments and wrappers before the interpreter, another `python`
# name, interpreter options, `cd DIR &&`. Each still runs a file of the simulator, whose stand-in counts.
WRAPPED = [  # the task's benchmark command (options follow) -> the file replaced, the folder it runs in
    ("VAR=x python run.py", "run.py", "."),
    ("env VAR=x python run.py", "run.py", "."),
    ("/usr/bin/env python run.py", "run.py", "."),
    ("python3 run.py", "run.py", "."),
    ("python3.12 -u -W ignore run.py", "run.py", "."),
    ("timeout 60 python run.py", "run.py", "."),
    ("timeout -s KILL 60 bash run.sh", "run.sh", "."),
    ("nice -n 5 python run.py", "run.py", "."),
    ("PYTHONHASHSEED=0 exec ./run.sh", "run.sh", "."),
    ("stdbuf -oL python3 -m queuesim.bench", "queuesim/bench.py", "."),
    ("python tools/bench.py", "tools/bench.py", "."),
    ("cd tools && python bench.py", "tools/bench.py", "tools"),
]


def shell(work: Path, command: str, ledger: Path | None, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    """`command` run by `sh -c` in `work`, as Glia's benchmark and the Researcher's shell run it; every
    `python` name on PATH is this interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "GLIA_LEDGER"}
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    if ledger is not None:
        env["GLIA_LEDGER"] = str(ledger)
    return subprocess.run(
        ["sh", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def python_names(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3", "python3.12"):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        (bin_dir / name).chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(("command", "replaced", "folder"), WRAPPED, ids=[w[0] for w in WRAPPED])
def test_a_wrapped_benchmark_command_counts_typed_as_written(
    tmp_path: Path, python_names: Path, command: str, replaced: str, folder: str
) -> None:
    """The command itself is the counted one (not `./glia_bench`): typed as the README writes it, each
    run is one simulation, with its options as conditions, and is refused once the budget is spent."""
    task = task_with(tmp_path, f"{command} --seed 0")
    assert (
        task.benchmark.command == f"{command} --seed 0" and f"each run of `{command} --seed 0`" in task.body
    )
    stem, suffix = replaced.rsplit(".", 1)
    assert (task.simulator / f"{stem}.uncounted.{suffix}").read_bytes() == (AUTHOR / replaced).read_bytes()
    work = Path(shutil.copytree(task.simulator, tmp_path / "work", symlinks=True))
    author = Path(shutil.copytree(AUTHOR, tmp_path / "author"))
    alone = shell(author, f"{command} --seed 3", None, python_names)
    assert alone.returncode == 0 and json.loads(alone.stdout)["seed"] == 3, alone.stderr
    assert shell(work, f"{command} --seed 3", None, python_names).stdout == alone.stdout

    ledger, socket_path, transcript, _ = a_ledger(tmp_path, task, simulations=1)
    try:
        claim = shell(work, f"{command} --policy policy --seed 5", socket_path, python_names)
        assert claim.returncode == 0, claim.stderr
        refused = shell(work, f"{command} --seed 6", socket_path, python_names)
        wait_until(lambda: ledger.running == 0)
        assert refused.returncode == 1 and "Glia refused this run" in refused.stderr
        assert not (work / folder / "results" / "bench" / "seed-6").exists()
        (record,) = ledger.records
        assert record.is_claim and record.conditions == {"policy": "policy", "seed": 5} and record.valid
        assert record.claimed_score == json.loads(claim.stdout)["mean_wait"]
        assert (work / folder / "results" / "bench" / "seed-5" / "summary.json").is_file()
    finally:
        ledger.close()
        transcript.close()


NOT_CERTAIN = [  # commands whose file Glia cannot stand in for: counted as a whole by ./glia_bench
    "./run_all.sh",  # absent: made at run time
    "bash made_later.sh",
    "python -m queuesim.absent",
    "env -C tools python bench.py",  # env's own folder change: not guessed at
    "python $(printf run.py)",
    'python -c \'import runpy; runpy.run_path("run.py", run_name="__main__")\'',
]


def test_a_command_whose_file_is_not_certain_is_counted_whole_by_the_named_command(
    tmp_path: Path, python_names: Path
) -> None:
    """No benchmark command is left uncounted because its file cannot be stood in for: the named
    command `./glia_bench` counts it whole, and runs it unchanged."""
    (tmp_path / "uncounted_sim").symlink_to(AUTHOR)
    path = tmp_path / "task.md"
    tasks = {}
    for command in NOT_CERTAIN:
        path.write_text(TASK.read_text().replace("command: python run.py --seed 0", f"command: {command}"))
        tasks[command] = load_task(path)
        assert tasks[command].benchmark.command == "./glia_bench", command
        assert f"`{command}`, unchanged" in tasks[command].body
    task = tasks[NOT_CERTAIN[-1]]
    work = Path(shutil.copytree(task.simulator, tmp_path / "work", symlinks=True))
    ledger, socket_path, transcript, _ = a_ledger(tmp_path, task, simulations=1)
    try:
        counted = shell(work, "./glia_bench --seed 2", socket_path, python_names)
        assert counted.returncode == 0, counted.stderr
        refused = shell(work, "./glia_bench", socket_path, python_names)
        wait_until(lambda: ledger.running == 0)
        assert refused.returncode == 1 and "Glia refused this run" in refused.stderr
        (record,) = ledger.records
        assert record.valid and record.values is not None
        assert record.values["mean_wait"] == json.loads(counted.stdout)["mean_wait"]
    finally:
        ledger.close()
        transcript.close()


def test_a_command_is_left_to_the_cpu_time_bound_only_when_glias_names_are_taken(tmp_path: Path) -> None:
    """A simulator that already has a `glia_bench` file, with a command naming no file of it: left as
    it is (the sandbox's CPU time bounds it)."""
    (tmp_path / "uncounted_sim").symlink_to(AUTHOR)  # the baseline's file
    taken = Path(shutil.copytree(AUTHOR, tmp_path / "taken"))
    (taken / "glia_bench").write_text("#!/bin/sh\n")
    path = tmp_path / "task.md"
    path.write_text(
        TASK.read_text()
        .replace("command: python run.py --seed 0", "command: make bench")
        .replace("simulator: uncounted_sim", "simulator: taken")
    )
    task = load_task(path)
    assert task.simulator == taken.resolve() and task.benchmark.command == "make bench"
