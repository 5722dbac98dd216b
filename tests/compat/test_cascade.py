"""OpenEvolve's cascade evaluation, run as OpenEvolve runs it: a cascade folder scores the same in Glia.

`folders/cascade_three/` is a cascade of our own (a cheap check, then a small and a large workload;
thresholds 0.5 and 0.8 in its config.yaml, the cascade left on by OpenEvolve's default). Each program
here stops at another stage. The expected metrics are computed by calling the evaluator's stage functions
directly, and checked against the real OpenEvolve package's Evaluator too; Glia's number comes from its
trusted evaluation (evaluator and program in processes of their own, talking over a socket).
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from glia.problems import load_problem
from glia.problems.folder import inspect_folder
from glia.task import TaskError
from tests.compat.conftest import FOLDERS
from tests.problems.support import run_harness

FOLDER = FOLDERS / "cascade_three"
SORTS_ALL = FOLDER.joinpath("initial_program.py").read_text()
SORTS_NOTHING = "def sort_values(values):\n    return list(values)\n"
SORTS_SHORT = "def sort_values(values):\n    return sorted(values) if len(values) <= 4 else list(values)\n"
SORTS_SHORT_RAISES = (
    "def sort_values(values):\n"
    "    if len(values) > 3:\n"
    "        raise ValueError('too long for me')\n"
    "    return sorted(values)\n"
)


def stages(tmp_path: Path, program: str) -> tuple[ModuleType, str]:
    spec = importlib.util.spec_from_file_location("cascade_three_evaluator", FOLDER / "evaluator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "program.py"
    path.write_text(program)
    return module, str(path)


def numbers(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and k != "error"}


def openevolve_metrics(program: str) -> dict[str, Any]:
    """What OpenEvolve itself scores, with the folder's config.yaml thresholds and its own defaults."""
    from openevolve.config import EvaluatorConfig
    from openevolve.evaluator import Evaluator

    config = EvaluatorConfig(cascade_thresholds=[0.5, 0.8], max_retries=0)
    assert config.cascade_evaluation is True  # the folder leaves it out: OpenEvolve's default
    evaluator = Evaluator(config, str(FOLDER / "evaluator.py"), None, None)
    return asyncio.run(evaluator.evaluate_program(program, "p"))


def glia_summary(program: str) -> dict[str, Any]:
    task = load_problem(FOLDER)
    run = run_harness(task.simulator, program)
    assert run.summary is not None, run.harness.stderr
    return run.summary


def glia_numbers(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {key: summary.get(key) for key in keys}


def test_a_program_passing_every_stage_gets_the_merged_metrics_of_all_three(tmp_path: Path) -> None:
    module, path = stages(tmp_path, SORTS_ALL)
    one, two, three = module.evaluate_stage1(path), module.evaluate_stage2(path), module.evaluate_stage3(path)
    assert one["combined_score"] >= 0.5 and two["combined_score"] >= 0.8  # so every stage runs
    expected = {**numbers(one), **numbers(two), **numbers(three)}
    assert expected == {
        "sorts_three": 1.0, "combined_score": 1.0, "small_accuracy": 1.0, "large_accuracy": 1.0, "stage": 3.0,
    }  # fmt: skip
    assert numbers(openevolve_metrics(SORTS_ALL)) == expected
    summary = glia_summary(SORTS_ALL)
    assert summary["valid"] is True, summary["error"]
    assert glia_numbers(summary, set(expected)) == expected
    assert summary["combined_score"] != module.evaluate(path)["combined_score"]  # the placeholder is unused


def test_a_program_failing_stage_one_gets_stage_one_metrics_only(tmp_path: Path) -> None:
    module, path = stages(tmp_path, SORTS_NOTHING)
    one = module.evaluate_stage1(path)
    assert one == {"sorts_three": False, "combined_score": 0.0, "error": "wrong order"}
    assert openevolve_metrics(SORTS_NOTHING) == one
    summary = glia_summary(SORTS_NOTHING)
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == 0.0 and summary["sorts_three"] is False
    assert "small_accuracy" not in summary and "stage" not in summary
    assert summary["metrics_text"] == {"error": "wrong order"}  # kept as the evaluator's text
    assert any("stage 2 not run" in note for note in summary["notes"])


def test_a_program_missing_the_second_threshold_gets_stages_one_and_two(tmp_path: Path) -> None:
    module, path = stages(tmp_path, SORTS_SHORT)
    one, two = module.evaluate_stage1(path), module.evaluate_stage2(path)
    assert 0.5 <= two["combined_score"] < 0.8  # stage 3 must not run
    expected = {**numbers(one), **numbers(two)}
    assert numbers(openevolve_metrics(SORTS_SHORT)) == expected
    summary = glia_summary(SORTS_SHORT)
    assert summary["valid"] is True, summary["error"]
    assert glia_numbers(summary, set(expected)) == expected and summary["stage"] == 2.0
    assert "large_accuracy" not in summary
    assert any("stage 3 not run (the metrics so far miss the threshold 0.8)" in n for n in summary["notes"])


def test_a_stage_that_raises_makes_the_evaluation_invalid_naming_the_stage() -> None:
    summary = glia_summary(SORTS_SHORT_RAISES)
    assert summary["valid"] is False
    first_line = summary["error"].splitlines()[0]
    assert first_line.startswith("cascade stage 2: evaluate_stage2() raised ValueError: too long for me")
    # OpenEvolve itself records a low but valid score here; Glia never turns a failure into a number
    assert openevolve_metrics(SORTS_SHORT_RAISES)["stage2_passed"] == 0.0


def test_cascade_off_naming_an_entry_or_no_stages_evaluates_the_entry_directly(tmp_path: Path) -> None:
    off = Path(shutil.copytree(FOLDER, tmp_path / "off"))
    (off / "config.yaml").write_text("evaluator:\n  cascade_evaluation: false\n")
    assert inspect_folder(off, None, None, None).cascade_thresholds is None
    assert inspect_folder(FOLDER, None, None, None).cascade_thresholds == (0.5, 0.8)
    assert inspect_folder(FOLDER, None, None, "evaluate_stage2").cascade_thresholds is None
    default = Path(shutil.copytree(FOLDER, tmp_path / "default"))
    (default / "config.yaml").unlink()
    assert inspect_folder(default, None, None, None).cascade_thresholds == (0.5, 0.75, 0.9)  # OpenEvolve's
    task = load_problem(off)
    run = run_harness(task.simulator, SORTS_ALL)
    assert run.summary is not None and run.summary["combined_score"] == -1.0  # `evaluate` itself


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("cascade_evaluation: 'yes'", "evaluator.cascade_evaluation"),
        ("cascade_thresholds: []", "evaluator.cascade_thresholds"),
    ],
)
def test_a_malformed_cascade_setting_is_one_line_naming_the_field(
    tmp_path: Path, value: str, field: str
) -> None:
    folder = Path(shutil.copytree(FOLDER, tmp_path / "bad"))
    (folder / "config.yaml").write_text(f"evaluator:\n  {value}\n")
    with pytest.raises(TaskError, match=f"config.yaml: field '{field}' must be"):
        inspect_folder(folder, None, None, None)


def test_adrs_stages_mapping_turns_the_cascade_on_as_adrs_openevolve_reads_it(tmp_path: Path) -> None:
    """ADRS's cant-be-late-multi writes `cascade_evaluation: {stages: [...], pass_metric: ...}`; its
    OpenEvolve takes any truthy value as on, with the default thresholds."""
    folder = Path(shutil.copytree(FOLDER, tmp_path / "adrs"))
    (folder / "config.yaml").write_text(
        "evaluator:\n  cascade_evaluation:\n    stages: [evaluate_stage1, evaluate_stage2]\n"
        "    pass_metric: runs_successfully\n"
    )
    assert inspect_folder(folder, None, None, None).cascade_thresholds == (0.5, 0.75, 0.9)


def test_a_cascade_stopped_before_any_stage_gave_the_score_says_so_not_to_name_a_stage(
    tmp_path: Path,
) -> None:
    """AlgoTune's class: stage 1 returns only `runs_successfully` (0 when the program fails), the score
    comes from stage 2. A program stopped at stage 1 is invalid, and the reason is where the cascade
    stopped; not the hint for a placeholder `evaluate` (the cascade did run)."""
    folder = tmp_path / "stops"
    folder.mkdir()
    (folder / "initial_program.py").write_text("def works():\n    return False\n")
    (folder / "config.yaml").write_text("evaluator:\n  cascade_thresholds: [0.5]\n")
    (folder / "evaluator.py").write_text(
        "import importlib.util\n\n\n"
        "def _works(path):\n"
        "    spec = importlib.util.spec_from_file_location('program', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module.works()\n\n\n"
        "def evaluate_stage1(path):\n"
        "    return {'runs_successfully': 1.0 if _works(path) else 0.0}\n\n\n"
        "def evaluate_stage2(path):\n"
        "    return {'combined_score': 0.7, 'runs_successfully': 1.0}\n\n\n"
        "def evaluate(path):\n"
        "    return evaluate_stage2(path)\n"
    )
    task = load_problem(folder)
    stopped = run_harness(task.simulator, "def works():\n    return False\n").summary
    assert stopped is not None and stopped["valid"] is False
    assert stopped["error"] == (
        "the evaluator's metrics have no numeric 'combined_score' (it returned: runs_successfully); "
        "OpenEvolve's cascade: stage 2 not run (the metrics so far miss the threshold 0.5)"
    )
    passed = run_harness(task.simulator, "def works():\n    return True\n").summary
    assert passed is not None and passed["valid"] is True and passed["combined_score"] == 0.7
