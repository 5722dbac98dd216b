"""The Researcher's benchmark (`python glia_benchmark.py`): evaluation, summary, and the ledger protocol.

It runs in the problem's template folder (what a context's sandbox holds) against Glia's real ledger
server, with a recording handler standing in for the context's SimulationLedger.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from glia.agents.ledger import is_claim
from glia.agents.ledger_socket import LedgerServer
from glia.problems import load_problem
from tests.agents.ledger_helpers import RecordingHandler
from tests.problems.support import FIXTURES, make_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDED = """
import importlib.util

def evaluate(program_path, seed=0, level=1):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return {"combined_score": float(program.solve(seed) * level), "seed_seen": seed}
"""


def workspace_copy(template: Path, tmp_path: Path) -> Path:
    """A copy of the template, as a context's sandbox starts from it."""
    return Path(shutil.copytree(template, tmp_path / "repo"))


def bench(repo: Path, *args: str, ledger: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GLIA_LEDGER"}
    if ledger is not None:
        env["GLIA_LEDGER"] = str(ledger)
    return subprocess.run(
        [sys.executable, "glia_benchmark.py", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def summaries(repo: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((repo / "glia_results").glob("*/summary.json"))]


def test_benchmark_runs_are_reported_and_claims_are_recognised(tmp_path: Path) -> None:
    folder = make_problem(
        tmp_path / "p",
        evaluator=SEEDED,
        files={"glia.yaml": "workloads: [{name: main, level: 2, seeds: 3}]\n"},
    )
    task = load_problem(folder)
    repo = workspace_copy(task.simulator, tmp_path)
    handler = RecordingHandler()
    with LedgerServer(handler) as server:
        first = bench(repo, ledger=server.path)
        assert first.returncode == 0, first.stderr
        assert "combined_score  2  <- objective" in first.stdout and "run 1 valid" in first.stdout
        second = bench(repo, "--seed", "5", ledger=server.path)  # another seed: an experiment
        (repo / "evaluator.py").write_text((repo / "evaluator.py").read_text() + "\n# tuned\n")
        third = bench(repo, ledger=server.path)  # the evaluator changed: an experiment too
        assert second.returncode == 0 and third.returncode == 0
    assert [report.conditions for _, report in handler.starts] == [
        {"program": "initial_program.py", "problem_files": "pristine", "seed": 0, "param.level": 2},
        {"program": "initial_program.py", "problem_files": "pristine", "seed": 5, "param.level": 2},
        {"program": "initial_program.py", "problem_files": "modified", "seed": 0, "param.level": 2},
    ]
    claims = [is_claim(report.conditions, task.benchmark.conditions) for _, report in handler.starts]
    assert claims == [True, False, False]
    ends = [report for _, report in handler.ends]
    assert [e.valid for e in ends] == [True, True, True]
    assert [e.summary["combined_score"] for e in ends] == [2.0, 12.0, 2.0]
    runs = summaries(repo)
    assert [s["arguments"] for s in runs] == [
        {"level": 2, "seed": 0},
        {"level": 2, "seed": 5},
        {"level": 2, "seed": 0},
    ]


def test_a_refused_run_evaluates_nothing(tmp_path: Path) -> None:
    repo = workspace_copy(load_problem(make_problem(tmp_path / "p")).simulator, tmp_path)
    with LedgerServer(RecordingHandler(refuse="the simulation budget of this run is spent")) as server:
        result = bench(repo, ledger=server.path)
    assert result.returncode == 2
    assert "Glia refused this run: the simulation budget of this run is spent" in result.stderr
    assert not (repo / "glia_results").exists()


def test_an_unreachable_ledger_refuses_the_run(tmp_path: Path) -> None:
    repo = workspace_copy(load_problem(make_problem(tmp_path / "p")).simulator, tmp_path)
    result = bench(repo, ledger=tmp_path / "nothing.sock")
    assert result.returncode == 2 and "GLIA_LEDGER is set" in result.stderr
    assert not (repo / "glia_results").exists()


def test_outside_glia_it_just_evaluates(tmp_path: Path) -> None:
    repo = workspace_copy(load_problem(REPO_ROOT / "tasks" / "shard_placement").simulator, tmp_path)
    baseline = bench(repo)
    better = bench(repo, "--program", str(FIXTURES / "better_placement.py"))
    assert baseline.returncode == 0 and better.returncode == 0, baseline.stderr + better.stderr
    first, second = summaries(repo)
    assert first["valid"] and second["valid"]
    assert second["combined_score"] > first["combined_score"] * 1.15  # the task's head-room, in the benchmark


def test_a_broken_program_is_an_invalid_run_not_a_crash(tmp_path: Path) -> None:
    evaluator = "def evaluate(program_path):\n    raise RuntimeError('cannot score')\n"
    repo = workspace_copy(load_problem(make_problem(tmp_path / "p", evaluator=evaluator)).simulator, tmp_path)
    handler = RecordingHandler()
    with LedgerServer(handler) as server:
        result = bench(repo, ledger=server.path)
    assert result.returncode == 1 and "INVALID" in result.stdout
    assert "evaluate() raised RuntimeError: cannot score" in result.stdout
    (end,) = [report for _, report in handler.ends]
    assert end.valid is False and "cannot score" in (end.error or "")
