"""What a kind of task is: how its source is recognised and loaded, and what the judge must know of it.

Callers above (the evaluator, its sandboxes, the judge kit, baselines, `glia bench`) ask the task's kind
instead of comparing slot names, so a new kind changes nothing there. Every answer is data or a small
function of the task; nothing here runs a design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from glia.task import Task, TaskError, split_front_matter
from glia.workspace.tree import TreeEntry

# A design check of a kind's own: why these design files must not be evaluated, or None.
DesignCheck = Callable[[Task, Mapping[str, str]], str | None]
# What the design's sandbox gets beside the design: template entries, chosen from the pristine template.
SandboxSources = Callable[[Mapping[str, TreeEntry], Mapping[str, str]], dict[str, TreeEntry]]


@dataclass(frozen=True)
class TaskSource:
    """A path given as a task (`glia solve PATH`), read only as far as a kind asks.

    A task file's text and front matter are read on first use, with the task file's own errors, so a
    kind recognising folders never reads anything and one recognising a field reads the file once.
    """

    path: Path

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()

    @cached_property
    def text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TaskError(f"{self.path}: cannot read the task file ({exc.strerror or exc})") from exc

    @cached_property
    def front_matter(self) -> tuple[dict[str, Any], str]:
        """(header, body) of a task file: its YAML front matter and the Researcher's brief."""
        return split_front_matter(self.path, self.text)

    @property
    def header(self) -> dict[str, Any]:
        return self.front_matter[0]

    @property
    def body(self) -> str:
        return self.front_matter[1]


def _no_hint(task: Task, failure: str) -> str:
    return ""


def _all_sources(template: Mapping[str, TreeEntry], design_files: Mapping[str, str]) -> dict[str, TreeEntry]:
    return dict(template)


@dataclass(frozen=True)
class TaskKind:
    """One kind of task Glia reads.

    `name` is what `Task.kind` says; `source` the kind's part of the message for a path no kind reads.
    `recognises` and `load` take a `TaskSource`; the kinds are asked in registration order, a `fallback`
    kind last (it takes any task file the others left, so its own errors say what is wrong).
    """

    name: str
    source: str
    recognises: Callable[[TaskSource], bool]
    load: Callable[[TaskSource], Task]
    fallback: bool = False
    # Trusted evaluation: whether the core sandbox holds the design file(s) of the pristine template
    # (False: the design never enters the core, not even as the initial version) ...
    core_holds_design: bool = True
    # ... and which template files the design's own sandbox gets beside the design.
    design_sandbox_sources: SandboxSources = _all_sources
    # What `static_checks: basic` means for this kind (None: the basic rules of design_checks).
    basic_checks: DesignCheck | None = None
    # The note naming the package to declare when a trusted run failed on a missing module ("" for none).
    requirement_hint: Callable[[Task, str], str] = _no_hint
    # Whether the Researcher's sandbox gets the judge kit (`python -m llmsim check`) when the design is
    # hosted apart: a simulator's own checker reads it.
    judge_kit: bool = False
    # The baseline that must score the same in process and isolated before any money is spent (a
    # problem's initial program, `glia.evaluation.faithful`); None: no such check.
    faithfulness_baseline: str | None = None
