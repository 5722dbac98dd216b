"""Trusted evaluation of programs in Docker, and `glia bench` on the bundled problems.

The core sandbox runs the problem's evaluator on a stand-in; the program runs in a sandbox of its own.
The numbers must be exactly those of the evaluator run in process (the proxy changes nothing), the
sandboxes must hold what the design says (no program in the core, nothing but the program in the
design sandbox), and hostile programs must end up invalid with a reason.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from glia.cli import main
from glia.evaluation import Evaluator
from glia.problems import load_problem
from glia.task_kinds import load_task
from tests.problems.support import FIXTURES, make_problem

pytestmark = pytest.mark.docker
REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS = REPO_ROOT / "tasks"


def in_process(problem: str, program: Path, **arguments) -> dict:
    spec = importlib.util.spec_from_file_location(f"{problem}_evaluator", TASKS / problem / "evaluator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate(str(program), **arguments)


def kept_summary(evaluation_dir: Path, workload: str = "main", run: int = 1) -> dict:
    (folder,) = [p for p in evaluation_dir.iterdir() if p.is_dir()]
    return json.loads((folder / "results" / workload / f"run-{run}" / "summary.json").read_text())


def test_trusted_scores_equal_the_evaluator_in_process(tmp_path: Path, workspace_image: str) -> None:
    task = load_task(TASKS / "cache_eviction").with_overrides(seeds=[0, 1], workloads=["main"])
    evaluator = Evaluator(task, tmp_path / "run", image=workspace_image, secrets_dir=tmp_path / "secrets")
    better = (FIXTURES / "better_cache_policy.py").read_text()
    design = evaluator.evaluate_design({"initial_program.py": better}, "better")
    baseline = evaluator.evaluate_baseline("initial_program")
    assert design.valid and baseline.valid, (design.reason, baseline.reason)
    assert design.isolation == "sandbox"
    for evaluation, program in (
        (design, FIXTURES / "better_cache_policy.py"),
        (baseline, TASKS / "cache_eviction" / "initial_program.py"),
    ):
        expected = [
            in_process("cache_eviction", program, seed=s, family="standard")["combined_score"] for s in (0, 1)
        ]
        got = [seed.values["combined_score"] for seed in evaluation.workloads["main"].seeds]
        assert got == expected  # bit for bit: the proxy changes nothing
    assert design.score > baseline.score * 1.10  # the task's head-room


def test_sandboxes_hold_what_they_should(tmp_path: Path, workspace_image: str) -> None:
    secret = "hidden-expected-answer-4242"
    evaluator_text = f'''
import importlib.util, json, os

EXPECTED = "{secret}"

def evaluate(program_path):
    core_has_program = any(name.startswith("initial_program") for name in os.listdir("."))
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    seen = program.look()
    return {{"combined_score": 1.0, "core_has_program": float(core_has_program), "seen": json.dumps(seen)}}
'''
    program = """
import os

def look():
    seen = {"cwd": sorted(os.listdir(".")), "root": sorted(os.listdir("/"))}
    for path in ("evaluator.py", "/workspace/repo/evaluator.py", "answers.json", "/glia/channel"):
        try:
            seen[path] = sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()
        except OSError as exc:
            seen[path] = type(exc).__name__
    return seen
"""
    folder = make_problem(tmp_path / "p", evaluator=evaluator_text, files={"answers.json": f'"{secret}"'})
    task = load_problem(folder).with_overrides(time_limit_s=60)
    evaluator = Evaluator(task, tmp_path / "run", image=workspace_image, secrets_dir=tmp_path / "secrets")
    result = evaluator.evaluate_design({"initial_program.py": program}, "prying")
    assert result.valid, result.reason
    summary = kept_summary(tmp_path / "run" / "evaluations")
    assert summary["core_has_program"] == 0.0
    seen = json.loads(summary["metrics_text"]["seen"])
    assert secret not in summary["metrics_text"]["seen"]
    assert sorted(name for name in seen["cwd"] if name != "__pycache__") == [".glia", "initial_program.py"]
    assert seen["evaluator.py"] == seen["answers.json"] == "FileNotFoundError"


def test_a_program_that_exits_is_invalid_with_the_reason(tmp_path: Path, workspace_image: str) -> None:
    task = load_task(TASKS / "shard_placement").with_overrides(seeds=[0], workloads=["main"])
    evaluator = Evaluator(task, tmp_path / "run", image=workspace_image, secrets_dir=tmp_path / "secrets")
    result = evaluator.evaluate_design(
        {"initial_program.py": "import os\n\ndef place(*a):\n    os._exit(3)\n"}, "quits"
    )
    assert not result.valid
    assert "the program failed" in result.reason and "ended or crashed" in result.reason


@pytest.mark.parametrize(
    ("problem", "extra"), [("shard_placement", []), ("cache_eviction", ["--workloads", "main"])]
)
def test_glia_bench_prints_the_table_in_the_tasks_metric(
    tmp_path: Path, capsys, workspace_image: str, problem, extra
) -> None:
    code = main(
        [
            "bench",
            str(TASKS / problem),
            "--seeds",
            "2",
            "--root",
            str(tmp_path),
            "--image",
            workspace_image,
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{problem}: trusted combined_score, higher is better" in out
    assert "initial_program" in out and "90% CI" in out
    assert "Reference baseline initial_program: 0." in out and "(maximize combined_score)" in out
    if problem == "shard_placement":
        assert "mean_servers" in out and "skewed* (mix=skewed)" in out


def test_glia_bench_a_program_file(tmp_path: Path, capsys, workspace_image: str) -> None:
    code = main([
        "bench", str(TASKS / "shard_placement"), "--seeds", "2", "--workloads", "main", "--root", str(tmp_path),
        "--image", workspace_image, "--design", str(FIXTURES / "better_placement.py"),
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    row = next(line for line in out.splitlines() if "better_placement" in line)
    assert float(row.split("│")[4]) >= 0.9
