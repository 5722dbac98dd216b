"""The simulator task: a Markdown task file whose front matter names a simulator and the design slot in it.

The file is read by `glia.task.build_task`; a simulator that reports no runs to the ledger gets a template
whose benchmark command counts itself (`glia.problems.counting`). Its design is hosted by the simulator's
own design host, whose sandbox gets the simulator's importable sources beside the design, and the
Researcher's copy gets the judge kit so that `python -m llmsim check` judges as the evaluator does.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from glia.problems.counting import counted_task
from glia.problems.support.missing import missing_module
from glia.problems.support.missing import requirement_hint as package_hint
from glia.task import SIMULATOR_KIND, Task, build_task
from glia.task_kinds.base import TaskKind, TaskSource
from glia.workspace.tree import TreeEntry

DESIGN_SOURCES = ("*.py",)  # what of the template the design's sandbox gets: importable sources only


def recognises(source: TaskSource) -> bool:
    return not source.is_folder  # the fallback: any task file the other kinds left is read as one


def load(source: TaskSource) -> Task:
    header, body = source.front_matter
    return counted_task(build_task(source.path, header, body))  # a simulator without a ledger client: counted


def design_sources(
    template: Mapping[str, TreeEntry], design_files: Mapping[str, str]
) -> dict[str, TreeEntry]:
    """The simulator's Python sources (the design imports its interface), never its data or scripts."""
    return {path: entry for path, entry in template.items() if _matches(path, DESIGN_SOURCES)}


def requirement_hint(task: Task, failure: str) -> str:
    """A run that failed on a missing package names the requirement to add to the task file; a module
    of the simulator's own repository is not a package."""
    module = missing_module(failure)
    if module is None or "; fix: add `" in failure:
        return ""
    own = (task.simulator / module).exists() or (task.simulator / f"{module}.py").exists()
    return package_hint(failure, "the task file's `requirements` field", frozenset({module} if own else ()))


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


KIND = TaskKind(
    name=SIMULATOR_KIND,
    source="a task file (Markdown with YAML front matter naming a simulator, e.g. tasks/llm_routing.md)",
    recognises=recognises,
    load=load,
    fallback=True,
    design_sandbox_sources=design_sources,
    requirement_hint=requirement_hint,
    judge_kit=True,
)
