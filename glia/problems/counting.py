"""The honest fallback for a simulator that reports no runs to Glia's ledger: count each benchmark command.

A simulator wrapped by following the README reports each run with the ledger client
(`support/ledger.py`, README step 4). One that does not would run uncounted, so its budget of simulations
would mean nothing. For such a simulator, Glia's workspace template (a copy in Glia's cache; the
author's folder is never written) holds, in place of the benchmark script the task's `benchmark.command`
runs (`python SCRIPT.py ...`), a stand-in that reports one simulation to the ledger, runs the author's
script unchanged (kept beside it as `SCRIPT.uncounted.py`, so its `__file__` folder is the same), and
reports the newest `summary.json` it wrote. So each benchmark command counts once, however many runs it
makes inside; a command that bypasses the stand-in is still charged by the sandbox's CPU time.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import replace
from pathlib import Path

import structlog

from glia.problems.template import materialize
from glia.task import Task
from glia.workspace.tree import DEFAULT_EXCLUDES, MODE_EXECUTABLE, MODE_FILE, TreeEntry, tree_from_folder

# Text any ledger client contains: the environment variable or the socket's path.
LEDGER_MARKERS = (b"GLIA_LEDGER", b"/run/glia/ledger.sock")
SUPPORT = Path(__file__).resolve().parent / "support"
log = structlog.get_logger(__name__)
COUNTER_MODULE = "glia_count_support"  # the ledger client and the stand-in's body, shipped beside it

STAND_IN = '''"""Glia's stand-in for {script}: this simulator reports no runs to Glia's ledger, so each run of
this command counts as one simulation of the budget. The simulator's own script, unchanged, is
{original}; this file runs it with the same arguments (see the README of Glia, adding a simulator)."""

import sys

from {package}.count import run_counted

sys.exit(run_counted({original!r}, {results_dir!r}))
'''


def reports_to_ledger(folder: Path) -> bool:
    """Whether any source of the simulator talks to the ledger (a copy of the client, or its own)."""
    tree = tree_from_folder(folder)
    return any(
        marker in entry.data
        for path, entry in tree.items()
        if path.endswith((".py", ".sh")) and not entry.is_symlink
        for marker in LEDGER_MARKERS
    )


def benchmark_script(command: str) -> str | None:
    """The script of a `python SCRIPT.py ...` benchmark command, else None."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if len(argv) >= 2 and Path(argv[0]).name in ("python", "python3") and argv[1].endswith(".py"):
        return argv[1].removeprefix("./")
    return None


def counted_task(task: Task) -> Task:
    """`task` itself when its simulator reports to the ledger; else the task on a template whose
    benchmark script counts each command. A command Glia cannot wrap (not `python SCRIPT.py ...`) is
    left as it is: its runs are charged by the sandbox's CPU time alone."""
    if reports_to_ledger(task.simulator):
        return task
    script = benchmark_script(task.benchmark.command)
    if script is None:  # counted by the sandbox's CPU time only (README, adding a simulator, step 4)
        log.warning("benchmark_command_uncounted", task=task.name, command=task.benchmark.command)
        return task
    tree = tree_from_folder(task.simulator, (*DEFAULT_EXCLUDES, task.benchmark.results_dir))
    files = dict(tree.items())
    if script not in files or files[script].is_symlink:  # a script made at run time: as above
        log.warning("benchmark_command_uncounted", task=task.name, command=task.benchmark.command)
        return task
    original = script.removesuffix(".py") + ".uncounted.py"
    files[original] = files[script]
    files[script] = TreeEntry(
        MODE_EXECUTABLE,
        STAND_IN.format(
            script=script, original=original, package=COUNTER_MODULE, results_dir=task.benchmark.results_dir
        ).encode(),
    )
    for module in ("ledger.py", "count.py"):
        files[f"{COUNTER_MODULE}/{module}"] = TreeEntry(MODE_FILE, (SUPPORT / module).read_bytes())
    files[f"{COUNTER_MODULE}/__init__.py"] = TreeEntry(MODE_FILE, b"")
    name = f"{task.name}-counted-{hashlib.sha256(str(task.simulator).encode()).hexdigest()[:8]}"
    return replace(task, simulator=materialize(name, files))
