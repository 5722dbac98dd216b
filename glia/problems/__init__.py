"""OpenEvolve-style problem folders as Glia tasks.

`load_problem(folder)` turns a folder holding an initial program and an `evaluator.py` (and optionally
OpenEvolve's `config.yaml`, a `requirements.txt` and Glia's own `glia.yaml`) into a `Task`; a task file
whose front matter says `problem: path/` does the same with its fields as settings and its body added to
the brief. The pieces: `folder` (what the folder holds, read without running it), `options` (Glia's
settings), `template` (the workspace template: the folder plus Glia's benchmark and harness), `build`
(the Task), `checks` (quick static feedback on a program), `support/` (the code that runs in sandboxes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glia.problems.build import problem_task
from glia.problems.folder import inspect_folder
from glia.problems.options import FIELDS, parse_options, read_settings_data, read_settings_file
from glia.task import Task, TaskError

PROBLEM_FIELD = "problem"


def load_problem(folder: str | Path) -> Task:
    """The task of an OpenEvolve-style problem folder (settings from its glia.yaml, if any)."""
    folder = Path(folder)
    options = read_settings_file(folder)
    problem = inspect_folder(folder, options.program, options.evaluator, options.entry)
    return problem_task(problem, options, options.source or folder)


def load_problem_file(path: Path, header: dict[str, Any], body: str) -> Task:
    """The task of a task file whose front matter names a problem folder (`problem: path/`)."""
    raw = header.get(PROBLEM_FIELD)
    if not isinstance(raw, str) or not raw.strip():
        raise TaskError(
            f"{path}: field '{PROBLEM_FIELD}' must be a folder relative to the task file, got {raw!r}"
        )
    folder = (path.parent / raw.strip()).resolve()
    if not folder.is_dir():
        raise TaskError(
            f"{path}: field '{PROBLEM_FIELD}' must be a folder relative to the task file (none at {folder})"
        )
    rest = {key: value for key, value in header.items() if key != PROBLEM_FIELD}
    # The folder's own glia.yaml (checked on its own, so its errors name it), overridden field by field.
    base = read_settings_data(folder)
    if "baselines" in base:  # glia.yaml's files are relative to the folder, not to the task file
        base["baselines"] = [
            {**item, "file": str((folder / item["file"]).resolve())} for item in base["baselines"]
        ]
    options = parse_options(path, {**base, **rest}, body, known=FIELDS)
    problem = inspect_folder(folder, options.program, options.evaluator, options.entry)
    return problem_task(problem, options, path)


__all__ = ["PROBLEM_FIELD", "load_problem", "load_problem_file"]
