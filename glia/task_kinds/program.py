"""The program task: an OpenEvolve-, ShinkaEvolve- or ADRS-style problem folder (`glia.problems`).

A folder holding an initial program and its evaluator, or a task file whose front matter says
`problem: FOLDER`. The design is the whole program: it never enters the core sandbox, its own sandbox
gets it with only the folder's modules it imports, `static_checks: basic` means the program's checks
(a program needs no rules about a simulator's interface), the harness names missing packages itself,
and the initial program must score the same in process and isolated before a run spends anything.
"""

from __future__ import annotations

from collections.abc import Mapping

from glia.problems import PROBLEM_FIELD, load_problem, load_problem_file
from glia.problems.build import PROGRAM_KIND, REFERENCE
from glia.problems.checks import program_problem
from glia.problems.siblings import design_sandbox_modules
from glia.task import Task
from glia.task_kinds.base import TaskKind, TaskSource


def recognises(source: TaskSource) -> bool:
    return source.is_folder or PROBLEM_FIELD in source.header


def load(source: TaskSource) -> Task:
    if source.is_folder:
        return load_problem(source.path)
    header, body = source.front_matter
    return load_problem_file(source.path, header, body)


def basic_checks(task: Task, files: Mapping[str, str]) -> str | None:
    return program_problem(files, task.forbidden_names)


def no_hint(task: Task, failure: str) -> str:
    """The harness in the core already names the package to add (`glia.problems.support.missing`)."""
    return ""


KIND = TaskKind(
    name=PROGRAM_KIND,
    source=(
        "a problem folder (an initial program and its evaluator.py, as OpenEvolve, ShinkaEvolve or ADRS "
        f"lay them out) or a task file whose front matter says `{PROBLEM_FIELD}: FOLDER`"
    ),
    recognises=recognises,
    load=load,
    core_holds_design=False,
    design_sandbox_sources=design_sandbox_modules,
    basic_checks=basic_checks,
    requirement_hint=no_hint,
    judge_kit=False,
    faithfulness_baseline=REFERENCE,
)
