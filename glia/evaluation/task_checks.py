"""A task's own static checks on a design: its `static_checks` rules, as the task's kind reads them.

Host only. `design_checks.py` holds the rules and is copied byte for byte into sandboxes (the judge kit),
so it knows nothing of task kinds; here a kind with its own meaning of `basic` (a problem's program)
replaces the basic rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from glia.evaluation.design_checks import design_problem, files_problem
from glia.task import Task
from glia.task_kinds import kind_of


def task_design_problem(task: Task, files: Mapping[str, str]) -> str | None:
    """The task's own static checks (its `static_checks` field) on a design's files, or None."""
    own = kind_of(task).basic_checks
    if task.static_checks == "basic" and own is not None:
        return files_problem(files, task.design_files) or own(task, files)
    return design_problem(
        files,
        task.design_files,
        task.forbidden_names,
        task.allowed_imports,
        task.forbidden_attributes,
        rules=task.static_checks,
    )
