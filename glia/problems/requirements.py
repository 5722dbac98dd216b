"""What a problem folder's image adds, decided when the folder is loaded.

The lines of its requirements.txt (the suite's, for an ADRS folder, were copied there by the template),
after any the task file declared, plus the real `openevolve` package when the evaluator or a helper
imports it. The task's `requirements` then say everything, so the workspace layer that builds the image
never asks which kind of task it has.
"""

from __future__ import annotations

from dataclasses import replace

from glia.problems.folder import needs_openevolve
from glia.task import Task
from glia.workspace.task_image import OPENEVOLVE, REQUIREMENTS_FILE, requirement_name


def with_image_requirements(task: Task) -> Task:
    """`task` with its requirements.txt lines (and openevolve where imported) in `requirements`."""
    lines = list(task.requirements)
    path = task.simulator / REQUIREMENTS_FILE
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    named = {requirement_name(line) for line in lines}
    if needs_openevolve(task.simulator, task.design_files) and OPENEVOLVE not in named:
        lines.append(OPENEVOLVE)
    return replace(task, requirements=tuple(lines))
