"""Fixtures for orchestrator tests: a toy task, fakes for every heavy collaborator, a run factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from glia.orchestrator import RunConfig, RunResult, execute_run, prepare_run
from glia.task import BudgetLimits

from .fakes import Cleanup, FakeEvaluator, FakeProviders, ScriptedContexts, write_toy_task


@pytest.fixture
def toy_task(tmp_path: Path) -> Path:
    return write_toy_task(tmp_path)


@pytest.fixture
def template(toy_task: Path) -> Path:
    return toy_task.parent / "template"


@pytest.fixture
def workspaces(tmp_path: Path) -> Path:
    return tmp_path / "workspaces"


@pytest.fixture
def make_config(toy_task: Path, workspaces: Path) -> Callable[..., RunConfig]:
    def make(strategy: str = "scg", contexts: int = 1, **overrides: Any) -> RunConfig:
        values: dict[str, Any] = {
            "task_path": toy_task,
            "strategy": strategy,
            "contexts": contexts,
            "researcher_model": "openai:fake-researcher",
            "supervisor_model": "openai:fake-supervisor",
            "budgets": BudgetLimits(steps=50),
            "workspaces_root": workspaces,
            "run_id": f"toy-{strategy}-{contexts}",
        }
        values.update(overrides)
        return RunConfig(**values)

    return make


class Harness:
    """Prepares and executes runs with fakes, keeping the fakes for assertions."""

    def __init__(self, runner: ScriptedContexts) -> None:
        self.runner = runner
        self.providers = FakeProviders()
        self.cleanup = Cleanup()
        self.events: list[dict[str, Any]] = []

    def injectables(self) -> dict[str, Any]:
        return {
            "context_runner": self.runner,
            "evaluator_factory": FakeEvaluator,
            "provider_factory": self.providers,
            "progress": self.events.append,
            "container_cleanup": self.cleanup,
        }

    def run(self, config: RunConfig) -> RunResult:
        return execute_run(prepare_run(config), **self.injectables())

    @property
    def evaluator(self) -> FakeEvaluator:
        return FakeEvaluator.instances[-1]


@pytest.fixture
def harness(template: Path) -> Callable[..., Harness]:
    FakeEvaluator.instances.clear()

    def make(plans: dict[int, Any], default: Any = None) -> Harness:
        return Harness(ScriptedContexts(template, plans, default))

    return make
