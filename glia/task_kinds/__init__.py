"""The kinds of task Glia reads, in one registry; `load_task` asks it which kind a path is.

Adding a kind is one module defining a `TaskKind` (how its source is recognised and loaded, what trusted
evaluation must know of it) plus one entry in `_BUILTIN` below, or a `register` call from the kind's own
package. Readers: `load_task` (every command, the orchestrator and resume, which re-reads the task from
its path, so a run keeps its kind), and through `kind_of` the evaluator, its sandboxes, the judge kit,
the run's baselines and `glia bench`.

Glia's own kinds: `simulator` (a Markdown task file over a simulator, `glia.task`) and `program` (an
OpenEvolve-style problem folder, `glia.problems`). This package sits above both, so neither imports
the other's loader, and below the evaluation, which asks it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from glia.registry import Registry
from glia.task import Task, TaskError
from glia.task_kinds import program, simulator
from glia.task_kinds.base import TaskKind, TaskSource

__all__ = [
    "TaskKind",
    "TaskSource",
    "UnknownTaskKind",
    "all_kinds",
    "get",
    "kind_of",
    "load_task",
    "names",
    "register",
    "unregister",
]

_BUILTIN: tuple[TaskKind, ...] = (program.KIND, simulator.KIND)


class UnknownTaskKind(TaskError):
    """A kind name no registered kind answers to, or a path no kind reads (the message says what would)."""


def _unknown(name: str) -> UnknownTaskKind:
    known = ", ".join(_KINDS.names()) or "none"
    return UnknownTaskKind(
        f"no task kind {name!r} is registered (registered: {known}); fix: import the package that "
        "registers it before loading the task"
    )


_KINDS: Registry[TaskKind] = Registry("task kind {name!r} is already registered", _unknown)


def register(kind: TaskKind) -> None:
    """Add a kind (its name must be new)."""
    _KINDS.register(kind)


def unregister(name: str) -> None:
    _KINDS.unregister(name)


def all_kinds() -> tuple[TaskKind, ...]:
    """Every kind in the order `load_task` asks them: registration order, fallback kinds last."""
    return tuple(sorted(_KINDS, key=lambda kind: kind.fallback))


def names() -> tuple[str, ...]:
    return _KINDS.names()


def get(name: str) -> TaskKind:
    return _KINDS.get(name)


def kind_of(task: Task) -> TaskKind:
    """The kind of a loaded task: what the evaluator and the run ask instead of comparing slot names."""
    return get(task.kind)


def load_task(path: str | Path) -> Task:
    """Read and validate a task file or a problem folder as the first kind that recognises it; raises
    TaskError (with the kind's own message when its source is malformed)."""
    source = TaskSource(Path(path))
    for kind in all_kinds():
        if kind.recognises(source):
            task = kind.load(source)
            return task if task.kind == kind.name else replace(task, kind=kind.name)
    kinds = all_kinds()
    fix = "give " + "; or ".join(k.source for k in kinds) if kinds else "register a kind (glia.task_kinds)"
    raise UnknownTaskKind(f"{source.path}: no kind of task Glia knows reads this; fix: {fix}")


for _kind in _BUILTIN:
    register(_kind)
