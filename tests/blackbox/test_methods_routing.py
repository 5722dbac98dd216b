"""Every black-box method end to end on the bundled routing task (a cheap trusted evaluation), with the
fake model: designs of known quality, a syntax error, a forbidden name, a router that fails in the
simulator. Candidates run in the sandbox, simulations are charged to the one budget, the trusted
evaluator picks the best, and every run folder reads like a Glia run's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.blackbox.initial import LLQ_ROUTER
from glia.blackbox.store import CandidateStore
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import (
    ALL_TO_ZERO,
    MODEL,
    ROUTER_FORBIDDEN,
    ROUTER_RAISES,
    SYNTAX_ERROR,
    Roles,
    quick_routing_task,
    unique,
)
from tests.fake_llm import FakeLLMServer

pytestmark = pytest.mark.docker

LLQ_REPLY = f"Idea: least loaded queue.\n\n```python\n{LLQ_ROUTER}```\n"


@pytest.fixture(scope="module")
def routing_task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return quick_routing_task(tmp_path_factory.mktemp("task"))


def run_method(
    method: str, task: Path, root: Path, roles: Roles, simulations: int, **blackbox: object
) -> Path:
    run_id = unique(f"routing-{method}")
    with FakeLLMServer() as server:
        server.handler("*", roles)
        config = RunConfig(task_path=task, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=simulations),
                           workspaces_root=root, run_id=run_id, blackbox=dict(blackbox))  # fmt: skip
        result = execute_run(prepare_run(config))
    assert result.status == "finished", result
    return root / run_id


def test_sample_on_routing_keeps_the_trusted_best(
    routing_task: Path, shared_root: Path, workspace_image: str
) -> None:
    roles = Roles([ALL_TO_ZERO, SYNTAX_ERROR, ROUTER_FORBIDDEN, LLQ_REPLY, ROUTER_RAISES])
    run_dir = run_method("sample", routing_task, shared_root, roles, simulations=3)
    data = load_run(run_dir)
    records = CandidateStore(run_dir / "ctx-1").records()
    statuses = [r.status for r in records]
    # all-to-zero runs, two are rejected before running (no simulation), LLQ runs, the raiser fails: 3 sims
    assert statuses == ["valid", "rejected", "rejected", "valid", "invalid"]
    assert "does not parse" in (records[1].error or "")
    assert "num_decode_tokens" in (records[2].error or "")
    assert data["usage"]["simulations"] == 3 and data["contexts"][0]["simulations"] == 3
    assert data["contexts"][0]["end_reason"] == "simulation_budget"
    assert records[3].claimed_score < records[0].claimed_score  # LLQ beats sending everything to one replica
    # The best design is the LLQ one, and its trusted score is the built-in llq baseline's, to the digit.
    assert data["best"]["label"] == "improved-4"
    assert data["best"]["score"] == pytest.approx(data["baselines"]["llq"]["score"], abs=1e-9)
    assert (run_dir / "best" / "ai_global_scheduler.py").read_text() == LLQ_ROUTER
    counts = data["blackbox"]["counts"]
    assert counts["invalid_designs"] == 3 and counts["candidates"] == 5 and counts["generations"] == 5
    assert data["usage"]["dollars"] == pytest.approx(5 * (1000 * 2.5 + 200 * 10.0) / 1e6)
    events = [json.loads(line) for line in (run_dir / "ctx-1" / "transcript.jsonl").read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds.count("model_call") == 5 and kinds.count("simulation_started") == 3
    assert kinds[0] == "context_start" and kinds[-1] == "context_end"


def test_loop_feeds_back_the_precise_error_and_the_best_design(
    routing_task: Path, shared_root: Path, workspace_image: str
) -> None:
    roles = Roles([SYNTAX_ERROR, LLQ_REPLY, ROUTER_RAISES, ALL_TO_ZERO])
    run_id = unique("routing-loop")
    with FakeLLMServer() as server:
        server.handler("*", roles)
        config = RunConfig(task_path=routing_task, strategy="loop", researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=3),
                           workspaces_root=shared_root, run_id=run_id)  # fmt: skip
        result = execute_run(prepare_run(config))
        prompts = [r.last_user_text for r in server.requests]
    assert result.status == "finished"
    # The second prompt carries the first attempt's exact error; the third the best design in full.
    assert "Attempt 1: forgot a colon. -> rejected before running:" in prompts[1]
    assert "does not parse" in prompts[1]
    assert "## The best design so far (attempt 2" in prompts[2]
    assert "num_pending_requests + self.replicas[rid].num_active_requests" in prompts[2]
    assert "failed in the simulator" in prompts[3] and "no idea" in prompts[3]
    data = load_run(shared_root / run_id)
    assert data["usage"]["simulations"] == 3
    assert data["best"]["score"] == pytest.approx(data["baselines"]["llq"]["score"], abs=1e-9)


def test_openevolve_starts_from_llq_and_evolves_in_the_sandbox(
    routing_task: Path, shared_root: Path, workspace_image: str
) -> None:
    least_active = "                    self.replicas[rid].num_active_requests,"
    broken = "                    self.replicas[rid].num_active_requests +,"
    roles = Roles([], edits=[least_active, broken])
    roles._edit = _routing_edit(roles)  # type: ignore[method-assign]
    run_dir = run_method("openevolve", routing_task, shared_root, roles, simulations=3, workers=1)
    data = load_run(run_dir)
    records = CandidateStore(run_dir / "ctx-1").records()
    assert (
        records[0].origin.get("initial") is True and records[0].status == "valid"
    )  # LLQ, the initial program
    assert data["blackbox"]["openevolve"]["initial_program"].startswith("reference baseline llq")
    assert data["usage"]["simulations"] == 3
    assert any(r.status == "rejected" and "does not parse" in (r.error or "") for r in records)
    assert data["best"] is not None
    best_score = data["best"]["score"]
    llq = data["baselines"]["llq"]["score"]
    # OpenEvolve's answer is at least as good as its starting point, by the trusted evaluator's numbers.
    assert best_score <= llq + 1e-9


def _routing_edit(roles: Roles):  # type: ignore[no-untyped-def]
    from tests.fake_llm import reply

    def edit(text: str):  # type: ignore[no-untyped-def]
        new = next(roles.edits)
        old = "                    self.replicas[rid].num_pending_requests + self.replicas[rid].num_active_requests,"
        if old not in text:
            old = "                    self.replicas[rid].num_active_requests,"
        return reply(
            f"<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n", input_tokens=1000, output_tokens=200
        )

    return edit
