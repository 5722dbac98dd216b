"""The task-kind registry: Glia's two kinds, `load_task`'s dispatch, a toy kind, and the errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from glia import task_kinds
from glia.errors import GliaUsageError
from glia.evaluation.evaluator import missing_requirement_hint
from glia.evaluation.judge_kit import judge_kit_tree
from glia.evaluation.sandboxes import template_tree
from glia.evaluation.task_checks import task_design_problem
from glia.orchestrator.baselines import check_faithful
from glia.problems.siblings import design_sandbox_modules
from glia.task import SIMULATOR_KIND, Task, TaskError, build_task, split_front_matter
from glia.task_kinds import TaskKind, TaskSource, UnknownTaskKind, kind_of, load_task
from tests.problems.support import make_problem, write

ROOT = Path(__file__).resolve().parents[1]
ROUTING = ROOT / "tasks" / "llm_routing.md"
TOY_FIELD = "toy_kind"
MISSING = "ModuleNotFoundError: No module named 'networkx'"


def test_glia_kinds_are_registered_and_the_fallback_is_asked_last() -> None:
    assert set(task_kinds.names()) >= {"simulator", "program"}
    order = [kind.name for kind in task_kinds.all_kinds()]
    assert order.index("program") < order.index("simulator") and order[-1] == "simulator"
    assert task_kinds.get("simulator").fallback and not task_kinds.get("program").fallback
    with pytest.raises(ValueError, match="task kind 'program' is already registered"):
        task_kinds.register(task_kinds.get("program"))


def test_load_task_gives_each_source_its_kind(tmp_path: Path) -> None:
    simulator = load_task(ROUTING)
    folder = load_task(make_problem(tmp_path / "problems" / "p"))
    named = tmp_path / "tasks" / "quick.md"
    write(named.parent, {named.name: "---\nproblem: ../problems/p\nname: quick\n---\nGo.\n"})
    program = load_task(named)
    assert (simulator.kind, folder.kind, program.kind) == ("simulator", "program", "program")
    assert kind_of(simulator) is task_kinds.get("simulator") and kind_of(program) is task_kinds.get("program")


def test_each_kind_answers_what_the_judge_asks(tmp_path: Path) -> None:
    simulator = load_task(ROUTING)
    program = load_task(make_problem(tmp_path / "p", files={"helper.py": "X = 1\n", "notes.txt": "n\n"}))
    sim_kind, program_kind = kind_of(simulator), kind_of(program)
    assert (sim_kind.core_holds_design, program_kind.core_holds_design) == (True, False)
    assert (sim_kind.faithfulness_baseline, program_kind.faithfulness_baseline) == (None, "initial_program")
    assert judge_kit_tree(simulator) and judge_kit_tree(program) == {}
    # the simulator's design sandbox gets its Python sources only; the program's, the modules it imports
    template = template_tree(simulator, simulator.results_dir)
    sources = sim_kind.design_sandbox_sources(template, {})
    assert sources and all(path.endswith(".py") for path in sources)
    assert len(sources) == sum(path.endswith(".py") for path in template)
    program_template = template_tree(program, program.results_dir)
    design = {"initial_program.py": "import helper\n"}
    shipped = program_kind.design_sandbox_sources(program_template, design)
    assert shipped == design_sandbox_modules(program_template, design) and set(shipped) == {"helper.py"}
    # a missing package: the simulator's task file is told to declare it; a problem's harness says so itself
    assert missing_requirement_hint(simulator, MISSING) == (
        "; fix: add `networkx` to the task file's `requirements` field"
    )
    assert missing_requirement_hint(program, MISSING) == ""
    # `static_checks: basic` means the program's own checks for a program, the basic rules otherwise
    # (a program may be up to 1 MiB, a simulator's design file 512 KiB)
    large = {"initial_program.py": "x = 1\n" + "# data\n" * 100_000}
    assert program.static_checks == "basic" and task_design_problem(program, large) is None
    as_simulator = replace(program, kind=SIMULATOR_KIND)
    assert task_design_problem(as_simulator, large) == (
        "initial_program.py: is over 512 KiB; a design file is source code, not data"
    )


# ------------------------------------------------------------------------------------- a toy kind


def _toy_recognises(source: TaskSource) -> bool:
    return not source.is_folder and TOY_FIELD in source.header


def _toy_load(source: TaskSource) -> Task:
    """The routing task under the toy file's name: the toy only needs a Task, built as a simulator's."""
    header, body = split_front_matter(ROUTING, ROUTING.read_text(encoding="utf-8"))
    return replace(build_task(ROUTING, {**header, "name": source.header[TOY_FIELD]}, body), path=source.path)


def _toy_checks(task: Task, files: Mapping[str, str]) -> str | None:
    return "the toy rejects every design"


TOY = TaskKind(
    name="toy",
    source="a toy task file (front matter `toy_kind: NAME`)",
    recognises=_toy_recognises,
    load=_toy_load,
    basic_checks=_toy_checks,
    requirement_hint=lambda task, failure: "; fix: ask the toy",
    faithfulness_baseline="llq",
)


@pytest.fixture
def toy() -> Iterator[TaskKind]:
    task_kinds.register(TOY)
    try:
        yield TOY
    finally:
        task_kinds.unregister(TOY.name)


def test_a_registered_kind_is_loaded_and_asked_with_no_other_module_edited(tmp_path: Path, toy) -> None:
    path = write(tmp_path, {"toy.md": f"---\n{TOY_FIELD}: little\n---\nA toy.\n"}) / "toy.md"
    task = load_task(path)
    assert (task.kind, task.name, task.path) == ("toy", "little", path)  # stamped by load_task
    assert kind_of(task) is toy
    basic = replace(task, static_checks="basic")
    assert task_design_problem(basic, {task.design_files[0]: "x = 1\n"}) == "the toy rejects every design"
    assert missing_requirement_hint(task, MISSING) == "; fix: ask the toy"
    assert judge_kit_tree(task) == {}  # the toy's judge_kit is False (the default)
    assert load_task(ROUTING).kind == "simulator"  # the fallback still takes every other task file
    task_kinds.unregister(toy.name)
    with pytest.raises(TaskError, match="field 'toy_kind'"):  # now only the simulator kind reads it
        load_task(path)


def test_the_faithfulness_check_asks_the_kind(toy, tmp_path: Path, monkeypatch) -> None:
    """`check_faithful` compares the baseline the kind names, with the Docker evaluator only."""
    import glia.evaluation.faithful as faithful
    from glia.evaluation import Evaluator
    from glia.evaluation.faithful import Faithfulness

    asked: list[tuple[str, object, str]] = []

    def record(task: Task, isolated: object, evaluator: object, reference: str = "") -> Faithfulness:
        asked.append((task.kind, isolated, reference))
        return Faithfulness(False, "differs") if task.kind == "toy" else Faithfulness(True)

    monkeypatch.setattr(faithful, "check_initial_program", record)
    path = write(tmp_path, {"toy.md": f"---\n{TOY_FIELD}: little\n---\nA toy.\n"}) / "toy.md"
    toy_task, routing = load_task(path), load_task(ROUTING)
    evaluations = {"llq": "the llq verdict", "initial_program": "unused"}
    for task in (toy_task, routing):
        check_faithful(task, evaluations, evaluator=object())  # not an Evaluator: never checked
        check_faithful(task, evaluations, Evaluator(task, tmp_path / "local", backend="local"))
    assert asked == []
    check_faithful(routing, evaluations, Evaluator(routing, tmp_path / "sim", backend="docker"))
    assert asked == []  # the simulator kind names no baseline
    with pytest.raises(GliaUsageError, match="glia solve stopped: differs"):
        check_faithful(toy_task, evaluations, Evaluator(toy_task, tmp_path / "toy", backend="docker"))
    assert asked == [("toy", "the llq verdict", "llq")]


# ------------------------------------------------------------------------------------------ errors


def test_a_source_no_kind_reads_is_one_line_with_the_fix(tmp_path: Path) -> None:
    simulator = task_kinds.get("simulator")
    task_kinds.unregister("simulator")
    try:
        with pytest.raises(UnknownTaskKind) as caught:
            load_task(ROUTING)
    finally:
        task_kinds.register(simulator)
    message = str(caught.value)
    assert "\n" not in message and isinstance(caught.value, TaskError)
    assert message.startswith(f"{ROUTING}: no kind of task Glia knows reads this; fix: give a problem folder")
    assert "`problem: FOLDER`" in message
    assert load_task(ROUTING).kind == "simulator"


def test_an_unknown_kind_name_is_one_line_with_the_fix() -> None:
    task = replace(load_task(ROUTING), kind="retired")
    with pytest.raises(UnknownTaskKind) as caught:
        kind_of(task)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("no task kind 'retired' is registered (registered: ")
    assert "fix: import the package that registers it" in message


def test_a_missing_path_keeps_the_task_files_message(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"nope\.md: cannot read the task file \(No such file"):
        load_task(tmp_path / "nope.md")


def test_a_task_built_without_a_kind_is_a_simulator_task() -> None:
    """Tasks made before kinds were recorded (and `Task(...)` built by hand) read as simulator tasks."""
    header, body = split_front_matter(ROUTING, ROUTING.read_text(encoding="utf-8"))
    assert build_task(ROUTING, header, body).kind == SIMULATOR_KIND == "simulator"
