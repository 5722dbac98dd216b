"""The kinds of task Glia reads, and `load_task`, which tells them apart.

A task file (`glia.task`: a simulator and the design slot in it), an OpenEvolve-style problem folder, or a
task file whose front matter names one (`glia.problems`: a program to evolve). It sits above both, so that
neither imports the other's loader.
"""

from __future__ import annotations

from pathlib import Path

from glia.problems import load_problem, load_problem_file
from glia.problems.counting import counted_task
from glia.task import Task, TaskError, build_task, split_front_matter


def load_task(path: str | Path) -> Task:
    """Read and validate a task file (or an OpenEvolve-style problem folder); raises TaskError."""
    path = Path(path)
    if path.is_dir():
        return load_problem(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskError(f"{path}: cannot read the task file ({exc.strerror or exc})") from exc
    header, body = split_front_matter(path, text)
    if "problem" in header:  # a task file naming an OpenEvolve-style problem folder
        return load_problem_file(path, header, body)
    return counted_task(build_task(path, header, body))  # a simulator without a ledger client: count commands
