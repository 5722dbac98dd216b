"""The honest fallback for a simulator that reports no runs to Glia's ledger: count each benchmark command.

A simulator wrapped by following the README reports each run with the ledger client
(`support/ledger.py`, README step 4). One that does not would run uncounted, so its budget of simulations
would mean nothing. For such a simulator, Glia's workspace template (a copy in Glia's cache; the
author's folder is never written) holds a stand-in for the file the task's `benchmark.command` runs
(`python run.py`, `python -m pkg.bench`, `bash run.sh`, `./run_all.sh`; see `glia.problems.stand_ins`),
or, for a command that names no file of the simulator (`make bench`), a named command `./glia_bench`
that Glia's own benchmark runs use instead. Each counts one simulation through the real ledger, is
refused once the budget is spent, runs the author's code unchanged, and reports the newest
`summary.json` it wrote. So each benchmark command counts once, however many runs it makes inside; a
command that bypasses the stand-in is still charged by the sandbox's CPU time.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import structlog

from glia.problems.stand_ins import COUNTER_MAIN, COUNTER_PACKAGE, StandIn, stand_in
from glia.problems.template import materialize
from glia.task import Task
from glia.workspace.tree import DEFAULT_EXCLUDES, MODE_FILE, TreeEntry, tree_from_folder

# Text any ledger client contains: the environment variable or the socket's path.
LEDGER_MARKERS = (b"GLIA_LEDGER", b"/run/glia/ledger.sock")
SUPPORT = Path(__file__).resolve().parent / "support"
log = structlog.get_logger(__name__)


def reports_to_ledger(folder: Path) -> bool:
    """Whether any source of the simulator talks to the ledger (a copy of the client, or its own)."""
    tree = tree_from_folder(folder)
    return any(
        marker in entry.data
        for path, entry in tree.items()
        if path.endswith((".py", ".sh")) and not entry.is_symlink
        for marker in LEDGER_MARKERS
    )


def counted_task(task: Task) -> Task:
    """`task` itself when its simulator reports to the ledger; else the task on a template whose
    benchmark command counts each run (and a brief that says which command counts)."""
    if reports_to_ledger(task.simulator):
        return task
    tree = tree_from_folder(task.simulator, (*DEFAULT_EXCLUDES, task.benchmark.results_dir))
    files = dict(tree.items())
    found = stand_in(task.benchmark.command, files, task.benchmark.results_dir)
    if found is None or COUNTER_PACKAGE in files:  # counted by the sandbox's CPU time only (README, step 4)
        log.warning("benchmark_command_uncounted", task=task.name, command=task.benchmark.command)
        return task
    files.update(found.files)
    for module in ("ledger.py", "count.py"):
        files[f"{COUNTER_PACKAGE}/{module}"] = TreeEntry(MODE_FILE, (SUPPORT / module).read_bytes())
    files[f"{COUNTER_PACKAGE}/__init__.py"] = TreeEntry(MODE_FILE, b"")
    files[f"{COUNTER_PACKAGE}/__main__.py"] = TreeEntry(MODE_FILE, COUNTER_MAIN.encode())
    name = f"{task.name}-counted-{hashlib.sha256(str(task.simulator).encode()).hexdigest()[:8]}"
    return replace(
        task,
        simulator=materialize(name, files),
        benchmark=replace(task.benchmark, command=found.command),
        body=task.body.rstrip() + "\n\n" + counting_note(task.benchmark.command, found) + "\n",
    )


def counting_note(command: str, found: StandIn) -> str:
    """What the Researcher is told: which command counts, and that each run of it is one simulation."""
    text = (
        "## Counting your runs (added by Glia)\n\n"
        "This simulator reports no runs to Glia's ledger, so Glia counts each run of "
        f"`{found.counted}` as one simulation of your budget, however many runs it makes inside; once the "
        "budget is spent it is refused."
    )
    if found.named:
        text += (
            f" `./{found.counted.removeprefix('./')}` runs the task's benchmark command, `{command}`, "
            "unchanged (arguments you give are appended). Run benchmarks through it: runs that bypass it are "
            "still charged, by the CPU time they use."
        )
    return text
