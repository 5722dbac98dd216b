"""Other people's layouts, unchanged: Glia's trusted score equals the folder's own evaluator run directly.

Each folder under `folders/` is one class of incompatibility found on public problem folders: the
ShinkaEvolve layout, an ADRS-style suite whose dependencies sit at its root, an evaluator that names its
own objective (no combined_score), and an evaluator with unseeded randomness. The trusted evaluation runs
as Glia runs it (core and program in processes of their own, talking over a socket; no Docker needed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glia.problems import load_problem
from glia.problems import template as template_module
from glia.problems.siblings import design_sandbox_modules
from glia.task import TaskError
from glia.workspace.tree import tree_from_folder
from tests.compat.conftest import FOLDERS
from tests.problems.support import run_harness

DIRECT = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("own_evaluator", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(module.evaluate(sys.argv[2])))
"""

SHINKA_DIRECT = [sys.executable, "evaluate.py", "--program_path", "initial.py", "--results_dir", "own"]


def own_score(folder: Path, tmp_path: Path, key: str) -> float:
    """The folder's own evaluator on its own program, run directly in a copy of the folder."""
    copy = Path(shutil.copytree(folder, tmp_path / "direct"))
    out = subprocess.run(
        [sys.executable, "-c", DIRECT, "evaluator.py", "initial_program.py"],
        cwd=copy, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(json.loads(out.stdout)[key])


def trusted(folder: Path, program: str = "initial_program.py") -> dict:
    task = load_problem(folder)
    run = run_harness(task.simulator, (folder / program).read_text(), program_name=program)
    assert run.summary is not None, run.harness.stderr
    return {"task": task, **run.summary}


def test_shinka_layout_scores_what_its_main_writes(tmp_path: Path) -> None:
    folder = FOLDERS / "shinka_layout"
    copy = Path(shutil.copytree(folder, tmp_path / "direct"))
    subprocess.run(SHINKA_DIRECT, cwd=copy, check=True, capture_output=True)
    own = json.loads((copy / "own" / "metrics.json").read_text())
    assert json.loads((copy / "own" / "correct.json").read_text())["correct"] is True
    summary = trusted(folder, "initial.py")
    task = summary["task"]
    assert task.design.files == ("initial.py",) and task.metric.name == "combined_score"
    assert summary["valid"] and summary["objective_source"] == "evaluator", summary
    assert summary["combined_score"] == own["combined_score"]
    assert abs(own["combined_score"] - (8 + 8.2 + 8.125) / 3) < 1e-12
    assert summary["public.runs"] == 3.0 and summary["metrics_text"]["text_feedback"] == "all widths valid"


def test_shinka_incorrect_program_is_invalid_with_its_reason() -> None:
    folder = FOLDERS / "shinka_layout"
    task = load_problem(folder)
    bad = "def run_experiment(width):\n    return [12] * width\n"
    run = run_harness(task.simulator, bad, program_name="initial.py")
    assert run.summary is not None and run.summary["valid"] is False
    assert (
        "correct.json says the program is incorrect: width 3: a number is 10 or more" in run.summary["error"]
    )


def test_adrs_suite_root_dependencies_and_named_objective(tmp_path: Path) -> None:
    folder = FOLDERS / "adrs_suite" / "problems" / "txn"
    summary = trusted(folder)
    task = summary["task"]
    assert task.metric.name == "score"  # the key the evaluator names
    assert (task.simulator / "requirements.txt").read_text() == "networkx>=3.0\n"  # from the suite's root
    assert summary["valid"] and summary["score"] == own_score(folder, tmp_path, "score")
    assert summary["score"] == 100 / 16  # completions 9, 11, 18, 19, 23


def test_no_combined_score_uses_the_evaluators_own_score_not_a_mean(tmp_path: Path) -> None:
    folder = FOLDERS / "no_combined_score"
    summary = trusted(folder)
    assert summary["task"].metric.name == "overall_score" and "combined_score" not in summary
    assert summary["valid"] and summary["overall_score"] == own_score(folder, tmp_path, "overall_score")
    assert summary["overall_score"] < 1.0 < summary["roughness"]  # a mean of the three would exceed 1


def test_a_mean_glia_computes_is_labelled_as_such(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FOLDERS / "no_combined_score", tmp_path / "raw"))
    source = (
        (folder / "evaluator.py")
        .read_text()
        .replace(', "overall_score": 1.0 / (1.0 + 0.1 * roughness + 0.05 * lag)', "")
    )
    (folder / "evaluator.py").write_text(source)
    summary = trusted(folder)
    assert summary["task"].metric.name == "mean_of_metrics" and "combined_score" not in summary
    assert summary["objective_source"] == "average"
    assert summary["mean_of_metrics"] == (summary["roughness"] + summary["lag"]) / 2
    assert "computed by Glia" in summary["task"].body


def test_unseeded_evaluator_is_evaluated_several_times() -> None:
    task = load_problem(FOLDERS / "unseeded")
    (main,) = task.evaluation.workloads
    assert len(main.seeds) == 3  # repeated: the interval is the evaluator's own spread
    scores = {trusted(FOLDERS / "unseeded")["combined_score"] for _ in range(2)}
    assert len(scores) == 2  # the evaluator is noisy: one evaluation would be shown as a certainty


def test_shinka_run_shinka_eval_without_the_framework_installed() -> None:
    """`from shinka.core import run_shinka_eval` works in the core with Glia's stand-in (no framework)."""
    folder = FOLDERS / "shinka_run_eval"
    summary = trusted(folder, "initial.py")
    assert summary["valid"], summary
    # seeds 0..3: gaps 1/4, 1/3, 1/4, 1/3 -> mean 7/24; every run validated
    assert abs(summary["combined_score"] - 7 / 24) < 1e-12 and summary["public.best_gap"] == 1 / 3
    assert summary["num_valid_runs"] == 4.0 and summary["num_invalid_runs"] == 0.0
    task = load_problem(folder)
    bad = "def run_experiment(seed, size=4):\n    return [2.0] * size\n"
    run = run_harness(task.simulator, bad, program_name="initial.py")
    assert run.summary is not None and run.summary["valid"] is False
    assert (
        "correct.json says the program is incorrect: Validation failed: a point is outside [0, 1]"
        in (run.summary["error"])
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"evaluator.py": "import torch\n\ndef evaluate(program_path):\n    return {'combined_score': 1.0}\n"},
         "evaluator.py: imports torch, which the sandbox does not have and the folder declares nowhere; add it to"),
        ({"requirements.txt": "mlx>=0.12\n"}, "requirement 'mlx>=0.12' needs a GPU (or Apple's Metal)"),
        ({"evaluator.py": "import requests\n\ndef evaluate(program_path):\n    return {'combined_score': 1.0}\n"},
         "the problem imports requests (it reaches the network: an online judge, an account, a service)"),
        ({"initial.f90": "program x\nend program x\n", "evaluate.py": "def main(program_path, results_dir):\n    pass\n"},
         "initial.f90: only Python programs can be evaluated"),
    ],
)  # fmt: skip
def test_folders_that_cannot_run_here_are_refused_in_one_line(tmp_path: Path, files, message) -> None:
    folder = Path(shutil.copytree(FOLDERS / "unseeded", tmp_path / "p"))
    if "initial.f90" in files:
        (folder / "initial_program.py").unlink()
        (folder / "evaluator.py").unlink()
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(TaskError) as caught:
        load_problem(folder)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_an_llm4ad_task_is_refused_in_one_line_with_how_to_wrap_it() -> None:
    """LLM4AD keeps its program as a string in template.py and scores it with an Evaluation subclass:
    not read, and the refusal says which two files make it a problem folder (not just "no evaluator")."""
    with pytest.raises(TaskError) as caught:
        load_problem(FOLDERS / "llm4ad_layout")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{FOLDERS / 'llm4ad_layout' / 'evaluation.py'}: an LLM4AD task")
    assert "fix: save template_program as initial_program.py and add an evaluator.py" in message


def test_a_program_that_keeps_time_with_signals_runs_on_its_sandboxs_main_thread(tmp_path: Path) -> None:
    """ShinkaEvolve's game_2048 class: the program's own module sets a SIGALRM time limit per move,
    which Python allows only on a main thread; isolated, the program's calls must run on one."""
    folder = FOLDERS / "shinka_signal_limit"
    copy = Path(shutil.copytree(folder, tmp_path / "direct"))
    stand_in = Path(template_module.__file__).parent / "shinka_compat"  # Glia's, as no framework is installed
    subprocess.run(SHINKA_DIRECT, cwd=copy, check=True, env={"PYTHONPATH": str(stand_in)})
    own = json.loads((copy / "own" / "metrics.json").read_text())
    assert own["combined_score"] == 8.0  # rounds 4 and 5: 1+2+3+1 and 1+2+3+1+2
    task = load_problem(folder)
    program = (folder / "initial.py").read_text()
    shipped = design_sandbox_modules(tree_from_folder(task.simulator), {"initial.py": program})
    assert sorted(shipped) == ["deadline.py"]
    run = run_harness(
        task.simulator,
        program,
        program_name="initial.py",
        design_extra={path: entry.data for path, entry in shipped.items()},
    )
    assert run.summary is not None, run.harness.stderr
    assert run.summary["valid"] is True, run.summary["error"]
    assert run.summary["combined_score"] == own["combined_score"]


def test_a_cascade_evaluator_whose_evaluate_is_a_placeholder_names_the_stage_to_use(tmp_path: Path) -> None:
    """ADRS cant-be-late-multi's class: `evaluate` returns a placeholder without the objective. With the
    cascade on (its config.yaml) Glia runs the stages as OpenEvolve does; with it off, the error says
    which stage to name."""
    folder = FOLDERS / "cascade_stages"
    assert trusted(folder)["combined_score"] == 7.0  # stage 1 passes 0.5, stage 2: 9 - 2
    off = Path(shutil.copytree(folder, tmp_path / "off"))
    (off / "config.yaml").write_text("evaluator:\n  cascade_evaluation: false\n")
    summary = trusted(off)
    assert summary["valid"] is False
    assert summary["error"].endswith(
        "the evaluator keeps its scores in OpenEvolve's cascade stages (evaluate_stage1, evaluate_stage2): "
        "fix: name the last one in glia.yaml, `entry: evaluate_stage2`"
    )
    (off / "glia.yaml").write_text("entry: evaluate_stage2\n")
    staged = trusted(off)
    assert staged["valid"] and staged["combined_score"] == 7.0  # 9 - 2, what the stage itself returns


SUBPROCESS_SIM = FOLDERS / "subprocess_sim"


def test_an_evaluator_whose_simulator_logs_to_a_tracker_runs_with_logging_off(tmp_path: Path) -> None:
    """ADRS cant-be-late-multi's class: the evaluator starts its simulator as a subprocess, which calls
    `wandb.init()`; in a sandbox with no network and no key that fails, and the evaluator reports a
    failed run. Glia turns the tracker off (WANDB_MODE=disabled), so the score is the evaluator's own."""
    copy = Path(shutil.copytree(SUBPROCESS_SIM, tmp_path / "own"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    own = "import evaluator, json; print(json.dumps(evaluator.evaluate('initial_program.py')))"
    logged_out = subprocess.run(
        [sys.executable, "-c", own], cwd=copy, env=env, capture_output=True, text=True
    )
    assert json.loads(logged_out.stdout)["runs_successfully"] == 0.0  # as a user without a key sees it
    env["WANDB_MODE"] = "disabled"
    direct = json.loads(subprocess.run([sys.executable, "-c", own], cwd=copy, env=env, capture_output=True,
                                       text=True).stdout)  # fmt: skip
    assert direct == {"runs_successfully": 1.0, "combined_score": 12.0}
    task = load_problem(SUBPROCESS_SIM)
    summary = run_harness(task.simulator, (SUBPROCESS_SIM / "initial_program.py").read_text()).summary
    assert summary is not None and summary["valid"] is True, summary
    assert summary["combined_score"] == direct["combined_score"]


def test_a_missing_objective_shows_the_evaluators_own_reason_in_one_line() -> None:
    task = load_problem(SUBPROCESS_SIM)
    failing = "def decide(step):\n    raise ValueError('no plan for step %d' % step)\n"
    summary = run_harness(task.simulator, failing).summary
    assert summary is not None and summary["valid"] is False
    assert summary["error"] == (
        "the evaluator's metrics have no numeric 'combined_score' (it returned: error, runs_successfully, "
        "stderr); its error: Simulation failed with exit code 1.; its stderr ends: ValueError: no plan for step 0"
    )


def test_a_nested_projects_requirements_are_the_folders_when_it_declares_none(tmp_path: Path) -> None:
    """ADRS cant-be-late-multi: the program imports `sky_spot` from `simulator/`, whose requirements.txt
    (the one its README installs) declares the simulator's packages; the folder itself declares none. The
    task takes those the package, the project's own scripts, the program and the evaluator import (not
    those only an analysis script imports), once each, instead of refusing the folder."""
    folder = Path(shutil.copytree(FOLDERS / "nested_package", tmp_path / "nested"))
    simulator = folder / "simulator"
    (simulator / "requirements.txt").write_text("networkx>=3.0\nmatplotlib\nPyYAML\nnetworkx>=3.0\n")
    (simulator / "fleet" / "graphs.py").write_text("import networkx\n")
    (simulator / "simulate.py").write_text("import yaml\n" + (simulator / "simulate.py").read_text())
    (simulator / "analysis").mkdir()
    (simulator / "analysis" / "plot.py").write_text("import matplotlib\n")
    task = load_problem(folder)
    assert (task.simulator / "requirements.txt").read_text() == "networkx>=3.0\nPyYAML\n"
    assert task.requirements == ("networkx>=3.0", "PyYAML")
    (simulator / "requirements.txt").unlink()  # no requirements anywhere: an import the sandbox lacks
    (folder / "initial_program.py").write_text(
        "import networkx\n" + (folder / "initial_program.py").read_text()
    )
    with pytest.raises(TaskError, match=r"imports networkx, which the sandbox does not have"):
        load_problem(folder)
