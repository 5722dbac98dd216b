"""Loading an OpenEvolve-style problem folder into a Task: defaults, settings, task files, bad folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.problems import load_problem
from glia.problems.checks import program_problem
from glia.task import TaskError
from glia.task_kinds import load_task
from tests.problems.support import SIMPLE_EVALUATOR, make_problem, write

SEEDED_EVALUATOR = """
def evaluate(program_path, seed=0, family="a"):
    return {"combined_score": 1.0}
"""


def test_bare_folder_defaults(tmp_path: Path) -> None:
    folder = make_problem(tmp_path / "my problem!")
    before = sorted(p.name for p in folder.iterdir())
    task = load_task(folder)
    assert task.name == "my_problem" and task.path == folder
    assert task.design.slot == "program" and task.design.files == ("initial_program.py",)
    assert task.design.host == (  # the program's sandbox gets the evaluator's offline defaults too
        "env WANDB_MODE=disabled WANDB_SILENT=true python -m glia_isolation.program_host --program initial_program.py"
    )
    assert (task.metric.name, task.metric.direction) == ("combined_score", "maximize")
    assert task.evaluation.reference_baseline == "initial_program"
    baseline = task.evaluation.baseline("initial_program")
    assert (
        baseline.file is not None and baseline.file.read_text() == (folder / "initial_program.py").read_text()
    )
    # an evaluator that takes no seed: three repeated evaluations, so its own spread shows
    (main,) = task.evaluation.workloads
    assert main.seeds == (0, 1, 2) and not main.secret and dict(main.params) == {}
    assert task.evaluation.time_limit_s == 300.0  # OpenEvolve's default evaluator timeout
    assert task.benchmark.command == "python glia_benchmark.py"
    assert dict(task.benchmark.conditions) == {"program": "initial_program.py", "problem_files": "pristine"}
    command = task.evaluation.render_command("program", main, 0, "main-0", "out")
    assert command.startswith("python -m glia_support.harness --design program --seed 0 --output-root out")
    # the template is the folder plus Glia's files; the user's folder is left as it was
    assert sorted(p.name for p in folder.iterdir()) == before
    template = task.simulator
    assert (template / "glia_benchmark.py").is_file() and (template / "glia_support" / "harness.py").is_file()
    settings = json.loads((template / "glia_support" / "problem.json").read_text())
    assert settings["seed_argument"] is None and settings["average_if_missing"] is False
    assert set(settings["pristine"]) == {"evaluator.py"}  # the program is the design, not a pristine file
    assert "## Your workspace" in task.body and "python glia_benchmark.py" in task.body
    assert "takes no seed: the score is the mean of 3 repeated evaluations" in task.body


def test_seeded_evaluator_gets_secret_seeds_and_config_yaml_is_read(tmp_path: Path) -> None:
    folder = make_problem(
        tmp_path / "p",
        evaluator=SEEDED_EVALUATOR,
        files={
            "config.yaml": """
                language: python
                prompt:
                  system_message: "Pack circles into a square."
                evaluator:
                  timeout: 42
                """
        },
    )
    task = load_problem(folder)
    (main,) = task.evaluation.workloads
    assert main.secret and main.count == 5
    assert task.evaluation.time_limit_s == 42.0
    assert dict(task.benchmark.conditions)["seed"] == 0
    assert "> Pack circles into a square." in task.body
    assert "mean of 5 evaluations with seeds Glia keeps to itself" in task.body


def test_openevolve_placeholder_system_message_is_not_a_brief(tmp_path: Path) -> None:
    folder = make_problem(
        tmp_path / "p", files={"config.yaml": "prompt:\n  system_message: system_message\n"}
    )
    assert "in its author's words" not in load_problem(folder).body


def test_glia_yaml_overrides(tmp_path: Path) -> None:
    folder = make_problem(
        tmp_path / "p",
        evaluator=SEEDED_EVALUATOR,
        files={
            "other.py": "def solve(n):\n    return n\n",
            "glia.yaml": """
            name: packing
            title: Pack it
            time_limit_s: 12
            workloads:
              - {name: main, family: a, seeds: [1, 2]}
              - {name: other, family: b, seeds: 2, heldout: true}
            baselines: [{name: other, file: other.py}]
            metric: {name: score, direction: minimize, unit: s, constraints: ["cost <= 3"]}
            budgets: {simulations: 7}
            benchmark_seed: 4
            brief: Extra words for the Researcher.
            """,
        },
    )
    task = load_problem(folder)
    assert task.name == "packing" and task.title == "Pack it" and task.path == folder / "glia.yaml"
    assert task.evaluation.time_limit_s == 12.0
    assert [w.name for w in task.evaluation.workloads] == ["main", "other"]
    assert task.evaluation.workloads[0].seeds == (1, 2) and task.evaluation.workloads[1].heldout
    assert task.evaluation.baselines == ("initial_program", "other")
    assert (task.metric.name, task.metric.direction, task.metric.unit) == ("score", "minimize", "s")
    assert [str(c) for c in task.metric.constraints] == ["cost <= 3"]
    assert task.budgets.simulations == 7
    assert dict(task.benchmark.conditions) == {
        "program": "initial_program.py", "problem_files": "pristine", "seed": 4, "param.family": "a",
    }  # fmt: skip
    assert "--param family={family}" in task.evaluation.command
    assert "Extra words for the Researcher." in task.body
    settings = json.loads((task.simulator / "glia_support" / "problem.json").read_text())
    assert settings["average_if_missing"] is False  # only OpenEvolve's default objective falls back


def test_task_file_naming_a_problem(tmp_path: Path) -> None:
    make_problem(tmp_path / "problems" / "p", evaluator=SEEDED_EVALUATOR, files={"glia.yaml": "seeds: 9\n"})
    path = (
        write(
            tmp_path / "tasks",
            {
                "quick.md": "---\nproblem: ../problems/p\nname: quick\nseeds: [0, 1]\n---\nTry the obvious first.\n"
            },
        )
        / "quick.md"
    )
    task = load_task(path)
    assert task.name == "quick" and task.path == path
    assert task.evaluation.primary.seeds == (0, 1)  # the task file overrides glia.yaml
    assert "Try the obvious first." in task.body


def test_same_content_same_template_and_changes_make_a_new_one(tmp_path: Path) -> None:
    folder = make_problem(tmp_path / "p")
    first = load_problem(folder).simulator
    assert load_problem(folder).simulator == first
    (folder / "openevolve_output").mkdir()
    (folder / "openevolve_output" / "big.py").write_text("x = 1\n")
    assert load_problem(folder).simulator == first  # OpenEvolve's own output is not part of the problem
    (folder / "evaluator.py").write_text(SIMPLE_EVALUATOR + "\n# changed\n")
    second = load_problem(folder).simulator
    assert second != first and "# changed" in (second / "evaluator.py").read_text()


@pytest.mark.parametrize(
    ("files", "remove", "message"),
    [
        ({}, "evaluator.py", "evaluator.py: no evaluator"),
        ({}, "initial_program.py", "no initial_program.py"),
        ({"evaluator.py": "def evaluate(:\n"}, None, "evaluator.py: line 1: not valid Python"),
        ({"evaluator.py": "def score(path):\n    return {}\n"}, None, "no top-level function evaluate(program_path)"),
        ({"evaluator.py": "def evaluate():\n    return {}\n"}, None, "evaluate() takes no program path"),
        ({"config.yaml": "prompt: [unclosed\n"}, None, "config.yaml: not valid YAML"),
        ({"config.yaml": "language: rust\n"}, None, "config.yaml: field 'language' must be python"),
        ({"config.yaml": "evaluator: {timeout: -1}\n"}, None, "field 'evaluator.timeout' must be a positive number"),
        ({"config.yaml": "prompt: {system_message: 3}\n"}, None, "field 'prompt.system_message' must be a string"),
        ({"glia.yaml": "seedz: 3\n"}, None, "glia.yaml: unknown field 'seedz'"),
        ({"glia.yaml": "seeds: -2\n"}, None, "glia.yaml: field 'seeds' must be a count of secret seeds"),
        ({"glia.yaml": "workloads: [{name: m, seeds: [0], mode: x}]\n"}, None,
         "glia.yaml: field 'workloads[0].mode' must be a keyword argument of evaluator.py's evaluate()"),
        ({"glia.yaml": "metric: {name: s, direction: up}\n"}, None, "glia.yaml: field 'metric.direction' must be one of"),
        ({"glia.yaml": "program: ../x.py\n"}, None, "glia.yaml: field 'program' must be a path inside the problem folder"),
        ({"glia.yaml": "baselines: [{name: b, file: nope.py}]\n"}, None, "glia.yaml: field 'baselines[0].file' must be"),
        ({"glia.yaml": "baselines: [{name: initial_program, file: evaluator.py}]\n"}, None,
         "field 'baselines' must be names other than 'initial_program'"),
        ({"glia.yaml": "seed_argument: rng\n"}, None, "field 'seed_argument' must be a parameter of evaluator.py's evaluate()"),
        ({"glia_benchmark.py": "print(1)\n"}, None, "glia_benchmark.py: Glia adds a file of this name"),
        ({"initial_program.rs": "fn main() {}\n", "glia.yaml": "program: initial_program.rs\n"}, None,
         "only Python programs can be evaluated"),
    ],
)  # fmt: skip
def test_malformed_folders_name_file_and_field(tmp_path: Path, files, remove, message) -> None:
    folder = make_problem(tmp_path / "p")
    write(folder, files)
    if remove:
        (folder / remove).unlink()
    with pytest.raises(TaskError) as error:
        load_task(folder)
    assert message in str(error.value), str(error.value)
    assert str(folder) in str(error.value)


def test_task_file_errors_name_the_task_file(tmp_path: Path) -> None:
    make_problem(tmp_path / "p")
    bad = write(tmp_path, {"t.md": "---\nproblem: p\nbudgets: {simulations: lots}\n---\nbody\n"}) / "t.md"
    with pytest.raises(TaskError, match=r"t\.md: field 'budgets.simulations' must be a positive integer"):
        load_task(bad)
    missing = write(tmp_path, {"m.md": "---\nproblem: nowhere\n---\nbody\n"}) / "m.md"
    with pytest.raises(TaskError, match=r"m\.md: field 'problem' must be a folder relative to the task file"):
        load_task(missing)


def test_bundled_problems_load() -> None:
    root = Path(__file__).resolve().parents[2] / "tasks"
    for name, param in (("cache_eviction", "family"), ("shard_placement", "mix")):
        task = load_task(root / name)
        assert task.name == name and task.design.slot == "program"
        assert task.evaluation.primary.secret and task.evaluation.primary.count == 5
        assert any(w.heldout for w in task.evaluation.workloads)
        assert f"--param {param}={{{param}}}" in task.evaluation.command
        assert "in its author's words" in task.body


def test_program_checks_are_feedback_only() -> None:
    assert (
        program_problem({"p.py": "import os\nopen('x')\nobj.attr = 1\n"}) is None
    )  # the sandbox is the guarantee
    assert "line 1: not valid Python" in program_problem({"p.py": "def f(:\n"})
    assert "forbidden name 'secret'" in program_problem({"p.py": "x = secret\n"}, ["secret"])
    assert "over the limit" in program_problem({"p.py": "#" * (2 * 1024 * 1024)})
