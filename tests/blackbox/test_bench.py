"""The sandbox a black-box method benchmarks its candidates in: each candidate on a pristine tree (nothing
left behind by the one before), every simulation charged when it starts, a refused one never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.blackbox.bench import CandidateBench
from glia.blackbox.store import UNRUN, VALID
from glia.budget import Budget
from glia.record.transcript import Transcript, read_events
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from glia.workspace.history import History
from tests.blackbox.support import PROGRAM, simple_problem, unique

pytestmark = pytest.mark.docker

LITTERING = """
from pathlib import Path

Path("left_behind.txt").write_text("a note for the next candidate")


def solve(n):
    return n + 1
"""


def test_candidates_run_on_a_pristine_tree_and_the_budget_refuses_the_third(
    tmp_path: Path, workspace_image: str
) -> None:
    task = load_task(simple_problem(tmp_path))
    budget = Budget(BudgetLimits(simulations=2))
    ctx_dir = tmp_path / "run" / "ctx-1"
    transcript = Transcript(ctx_dir / "transcript.jsonl")
    bench = CandidateBench(task=task, ctx_dir=ctx_dir, run_id=unique("bench-test"), budget=budget.for_context(1),
                           transcript=transcript)  # fmt: skip
    bench.open()
    try:
        first = bench.run({PROGRAM: LITTERING}, "cand-1")
        assert first.status == VALID and first.claimed_score == 4.0
        assert bench.workspace.exec("cat left_behind.txt").exit_code == 0  # type: ignore[union-attr]
        second = bench.run({PROGRAM: "def solve(n):\n    return n + 6\n"}, "cand-2")
        assert second.status == VALID and second.claimed_score == 9.0
        assert bench.workspace.exec("test -e left_behind.txt").exit_code != 0  # type: ignore[union-attr]
        third = bench.run({PROGRAM: "def solve(n):\n    return n + 8\n"}, "cand-3")
    finally:
        bench.close()
        transcript.close()
    assert third.status == UNRUN and "budget is spent" in (third.error or "")
    assert budget.simulations_used == 2 and bench.ledger.refused == 1
    assert [first.run_total, second.run_total, third.run_total] == [1, 2, None]
    events = read_events(ctx_dir / "transcript.jsonl")
    assert [e["call_id"] for e in events if e["type"] == "simulation_started"] == ["cand-1", "cand-2"]
    # each design that ran is a commit of the history, holding exactly its text
    history = History(ctx_dir / "history.git")
    assert history.read_text(second.sha, PROGRAM) == "def solve(n):\n    return n + 6\n"  # type: ignore[arg-type]
    assert history.read_text(first.sha, PROGRAM) == LITTERING  # type: ignore[arg-type]
