"""A folder's `env:` setting: the variables its evaluator (and the simulator it starts) expects, as an
OpenEvolve or ShinkaEvolve user would export them before a run. The variables reach the evaluator, its
subprocesses and the program's own sandbox, alongside Glia's defaults for services a sandbox cannot reach
(`WANDB_MODE=disabled`), which the setting may override; names that are Glia's, a model key or what the
sandbox needs are refused in one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.problems import load_problem
from glia.task import TaskError
from tests.problems.support import run_harness, write

PROGRAM = """\
import os


# EVOLVE-BLOCK-START
def seen():
    return {name: os.environ.get(name) for name in ("SIM_SCALE", "WANDB_MODE", "WANDB_SILENT")}
# EVOLVE-BLOCK-END
"""

EVALUATOR = """\
import importlib.util
import os
import subprocess
import sys


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    seen = program.seen()
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('SIM_SCALE', '-1'))"],
        capture_output=True, text=True, check=True,
    )
    return {
        "combined_score": float(child.stdout),  # the simulator, a subprocess, reads the variable
        "program_scale": float(seen["SIM_SCALE"] or -1),
        "program_wandb_disabled": seen["WANDB_MODE"] == "disabled" and seen["WANDB_SILENT"] == "true",
        "evaluator_wandb_mode": os.environ.get("WANDB_MODE", "unset"),
    }
"""


def folder(tmp_path: Path, settings: str) -> Path:
    return write(
        tmp_path / "env_problem",
        {"initial_program.py": PROGRAM, "evaluator.py": EVALUATOR, "glia.yaml": settings},
    )


def test_the_declared_variables_and_the_defaults_reach_the_evaluator_and_its_subprocesses(
    tmp_path: Path,
) -> None:
    task = load_problem(folder(tmp_path, 'env:\n  SIM_SCALE: "2.5"\n  WANDB_MODE: offline\n'))
    run = run_harness(task.simulator, PROGRAM)
    assert run.summary is not None, run.harness.stderr[-2000:]
    assert run.summary["valid"] is True, run.summary["error"]
    assert run.summary["combined_score"] == 2.5
    assert run.summary["metrics_text"]["evaluator_wandb_mode"] == "offline"  # the folder's choice wins
    assert task.design.host == (
        "env WANDB_MODE=offline WANDB_SILENT=true SIM_SCALE=2.5 "
        "python -m glia_isolation.program_host --program initial_program.py"
    )


def test_without_the_setting_the_evaluator_runs_with_the_offline_defaults(tmp_path: Path) -> None:
    task = load_problem(folder(tmp_path, "name: plain\n"))
    run = run_harness(task.simulator, PROGRAM)
    assert run.summary is not None, run.harness.stderr[-2000:]
    assert run.summary["combined_score"] == -1.0 and run.summary["program_scale"] == -1.0
    assert run.summary["metrics_text"]["evaluator_wandb_mode"] == "disabled"
    assert task.design.host.startswith("env WANDB_MODE=disabled WANDB_SILENT=true python -m ")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("[SIM_SCALE]", r"field 'env' must be a mapping of at most 100 variables"),
        ("{'2FAST': 'x'}", r"field 'env' must be variable names of letters, digits and '_'.*got '2FAST'"),
        ("{'A-B': 'x'}", r"field 'env' must be variable names .*got 'A-B'"),
        (
            "{GLIA_DESIGN_ENDPOINT: /tmp/x}",
            r"field 'env.GLIA_DESIGN_ENDPOINT' must be a name that is not Glia's",
        ),
        ("{OPENAI_API_KEY: sk-x}", r"field 'env.OPENAI_API_KEY' must be a name that is not .*model key"),
        ("{PYTHONPATH: /x}", r"field 'env.PYTHONPATH' must be a name that is not"),
        ("{PATH: /x}", r"field 'env.PATH' must be a name that is not"),
        (
            "{OMP_NUM_THREADS: 1}",
            r"field 'env.OMP_NUM_THREADS' must be a string \(quote it: OMP_NUM_THREADS: \"1\"\)",
        ),
        ("{FLAG: true}", r"field 'env.FLAG' must be a string"),
        ("{BIG: '" + "x" * 5000 + "'}", r"field 'env.BIG' must be a string of at most 4096 characters"),
    ],
)
def test_a_bad_env_setting_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, env: str, message: str
) -> None:
    problem = folder(tmp_path, f"env: {env}\n")
    with pytest.raises(TaskError, match=message) as refused:
        load_problem(problem)
    assert str(problem / "glia.yaml") in str(refused.value) and "\n" not in str(refused.value)
    assert len(str(refused.value)) < 600


def test_a_task_file_naming_the_folder_takes_the_setting_too(tmp_path: Path) -> None:
    from glia.task_kinds import load_task

    problem = folder(tmp_path, "name: plain\n")
    task_file = tmp_path / "task.md"
    task_file.write_text(f"---\nproblem: {problem.name}/\nenv:\n  SIM_SCALE: '4'\n---\nScale four.\n")
    task = load_task(task_file)
    assert "SIM_SCALE=4 python -m glia_isolation.program_host" in task.design.host
    run = run_harness(task.simulator, PROGRAM)
    assert run.summary is not None and run.summary["combined_score"] == 4.0


@pytest.mark.docker
def test_glia_bench_gives_the_programs_own_sandbox_the_same_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workspace_image: str
) -> None:
    """End to end in Docker: the program, isolated in its own sandbox, sees the declared variable and
    Glia's offline defaults, as it would in the evaluator's process (the faithfulness check agrees)."""
    import json

    from glia.cli import main

    problem = folder(tmp_path, 'env:\n  SIM_SCALE: "3"\nseeds: 1\n')
    root = tmp_path / "root"
    code = main(["bench", str(problem), "--root", str(root), "--image", workspace_image])
    out = capsys.readouterr().out
    assert code == 0, out
    summaries = [json.loads(path.read_text()) for path in root.rglob("summary.json")]
    assert summaries, "no summary.json was kept"
    for summary in summaries:
        assert summary["valid"] is True, summary["error"]
        assert summary["combined_score"] == 3.0 and summary["program_scale"] == 3.0
        assert summary["program_wandb_disabled"] is True
        assert summary["metrics_text"]["evaluator_wandb_mode"] == "disabled"
