"""A simulator task's evaluation that failed on a missing package says which requirement to add."""

from __future__ import annotations

from pathlib import Path

from glia.evaluation.evaluator import missing_requirement_hint
from glia.task_kinds import load_task

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_package_names_the_requirement_field() -> None:
    task = load_task(ROOT / "tasks" / "llm_routing.md")
    failure = "main workload, run 1: ModuleNotFoundError: No module named 'sklearn.cluster'"
    assert missing_requirement_hint(task, failure) == (
        "; fix: add `scikit-learn` to the task file's `requirements` field"
    )


def test_no_hint_for_the_simulators_own_modules_the_standard_library_or_glia() -> None:
    task = load_task(ROOT / "tasks" / "llm_routing.md")
    for failure in (
        "No module named 'llmsim.nothing_here'",  # the simulator's own package: not a requirement
        "No module named 'tomllib'",
        "No module named 'glia_isolation'",
        "SafetyLimitError: wall-clock safety limit reached",
        "No module named 'networkx'; fix: add `networkx` to the folder's requirements.txt",
    ):
        assert missing_requirement_hint(task, failure) == "", failure
