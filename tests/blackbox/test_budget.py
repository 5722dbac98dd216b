"""One budget, enforced the same way for every method: Glia's SCG and the three black-box methods each
get 3 simulations on the same task with a model that never stops proposing designs; each uses exactly 3,
no simulation starts beyond them (the ledger would refuse it), and each run's answer is its best design as the
trusted judge scored it (with a stand-in evaluator that scores as the problem's own does, so the test
starts no evaluation sandboxes; the routing tests use the real evaluator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.blackbox.store import CandidateStore
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import MODEL, NO_CODE, Roles, good, simple_problem, unique
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simple_problem(tmp_path_factory.mktemp("problem"))


@pytest.mark.parametrize("method", ["scg", "sample", "loop", "openevolve"])
def test_every_method_spends_exactly_the_budget(
    method: str, problem: Path, shared_root: Path, workspace_image: str
) -> None:
    # designs of known quality: return n + K scores 3 + K; the best one the model offers is K = 9 (12)
    run_id = unique(f"budget-{method}")
    roles = Roles([good(2), NO_CODE, good(9), good(4)], edits=[2, 9, 4, 5], researcher_k=[2, 9, 4, 5, 6])
    with FakeLLMServer() as server:
        server.handler("*", roles)
        config = RunConfig(task_path=problem, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=3, steps=40),
                           workspaces_root=shared_root, run_id=run_id, blackbox={"workers": 1})  # fmt: skip
        result = execute_run(prepare_run(config), evaluator_factory=SimpleEvaluator)
    assert result.status == "finished"
    run_dir = shared_root / run_id
    data = load_run(run_dir)
    assert data["usage"]["simulations"] == 3
    assert data["budget_exhausted"] == "simulation_budget"
    events = [json.loads(line) for line in (run_dir / "ctx-1" / "transcript.jsonl").read_text().splitlines()]
    started = [e for e in events if e["type"] == "simulation_started"]
    assert [e["run_total"] for e in started] == [1, 2, 3]  # charged at the start, one by one, never beyond
    assert data["usage"]["dollars"] > 0 and data["usage"]["tokens"] > 0
    assert data["contexts"][0]["end_reason"] == "simulation_budget"  # every method stops on the budget
    if method == "scg":
        assert data["best"]["score"] == 12.0
        return
    records = CandidateStore(run_dir / "ctx-1").records()
    ran = [r for r in records if r.ran]
    assert len(ran) == 3 and [r.run_total for r in ran] == [1, 2, 3]
    assert data["blackbox"]["counts"]["valid"] == 3
    expected = {"sample": 12.0, "loop": 12.0, "openevolve": 12.0}[method]
    if method == "openevolve":
        expected = max(3.0 + k for k in (1, 2, 9)[: len(ran)])  # the initial program (n + 1) runs first
    assert data["best"]["score"] == expected
    assert data["contexts"][0]["best_trusted"] == expected
