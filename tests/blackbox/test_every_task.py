"""Every method works on every bundled task through the general task model: the prompts are built from
the task, the static checks accept its starting design and reject a broken one with the exact error,
OpenEvolve gets a starting program (the reference when Glia has it as a file, else an honest fallback),
and the plan can price each method. No sandbox: the methods' Docker tests run the search itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glia.blackbox.extract import read_design
from glia.blackbox.initial import initial_program
from glia.blackbox.prompts import loop_prompt, openevolve_system_message, sample_prompt
from glia.blackbox.session import static_problem
from glia.blackbox.store import REJECTED, VALID, CandidateRecord
from glia.compare.estimate import estimate_run
from glia.compare.plan import ComparePlan, parse_methods
from glia.llm.pricing import PriceTable
from glia.strategies.method_names import METHODS
from glia.task import Task
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
BUNDLED = sorted(
    p.name for p in (REPO / "tasks").iterdir() if p.suffix == ".md" and p.name != "README.md" or p.is_dir()
)


@pytest.fixture(params=BUNDLED)
def task(request: pytest.FixtureRequest) -> Task:
    return load_task(REPO / "tasks" / request.param)


def template_of(task: Task) -> dict[str, str]:
    return {p: (Path(task.simulator) / p).read_text(encoding="utf-8") for p in task.design_files}


def test_the_bundled_tasks_include_both_task_formats() -> None:
    assert "cache_eviction" in BUNDLED and "shard_placement" in BUNDLED and "llm_routing.md" in BUNDLED


def test_sample_and_loop_prompts_are_built_from_the_task(task: Task) -> None:
    template = template_of(task)
    prompt = sample_prompt(task, {task.evaluation.reference_baseline: 1.5}, template)
    assert task.body.strip()[:120] in prompt
    for path, text in template.items():
        assert f"`{path}`" in prompt and text.strip() in prompt
    # the reply format the prompt asks for is the one read back
    path = task.design_files[0]
    reply = f"Idea: a change.\n\n```python\n{template[path]}```\n"
    assert len(task.design_files) > 1 or read_design(reply, task.design_files).files == {path: template[path]}
    attempts = [
        CandidateRecord(1, "loop", VALID, design_hash="a", claimed_score=2.0, idea="first idea"),
        CandidateRecord(2, "loop", REJECTED, design_hash="b", idea="second idea", error="line 3: oops"),
    ]
    designs = {"a": template, "b": {path: "def broken(:\n"}}
    context = loop_prompt(task, {}, template, attempts, designs, attempts[0], history=30)
    assert "Attempt 1: first idea -> valid" in context and "line 3: oops" in context
    assert "def broken(:" in context and context.rstrip().endswith("improve on the best design so far.")


def test_static_checks_pass_the_template_and_reject_a_syntax_error_exactly(task: Task) -> None:
    template = template_of(task)
    assert static_problem(task, template) is None
    path = task.design_files[0]
    broken = {**template, path: template[path] + "\ndef oops(:\n    pass\n"}
    problem = static_problem(task, broken)
    assert problem is not None and path in problem
    line = broken[path].splitlines().index("def oops(:") + 1
    assert re.search(rf"{re.escape(path)}:( line )?{line}: (does not parse|not valid Python)", problem)


def test_openevolve_starts_from_the_reference_or_says_why_not(task: Task) -> None:
    assert len(task.design_files) == 1  # OpenEvolve evolves one file (a task with several is refused)
    start = initial_program(task)
    assert static_problem(task, {task.design_files[0]: start.text}) is None
    if start.note is None:
        assert start.source.startswith(f"reference baseline {task.evaluation.reference_baseline}")
    else:  # the fallback is the template itself, and the run's record says so
        assert start.text == template_of(task)[task.design_files[0]]
        assert task.evaluation.reference_baseline in start.note
    message = openevolve_system_message(task, {})
    assert task.body.strip()[:120] in message


def test_every_method_is_priced_for_every_task(task: Task) -> None:
    plan = ComparePlan(compare_id="c", task_path=REPO / "tasks", task_name=task.name,
                       methods=parse_methods(",".join(["scg", *METHODS])), budgets=[15], repeats=1,
                       researcher_model="openai:o3", supervisor_model="openai:o3", workspaces_root=REPO)  # fmt: skip
    prices = PriceTable.load().quiet()
    estimates = {e.method: estimate_run(plan, e, task, prices) for e in plan.entries()}
    assert set(estimates) == {"scg", *METHODS}
    for estimate in estimates.values():
        assert estimate.simulations == 15 and estimate.dollars is not None and estimate.dollars > 0
    # a black-box call is one prompt and one design; a Glia simulation is several agent turns
    assert max(estimates[m].dollars for m in METHODS) < estimates["scg"].dollars
