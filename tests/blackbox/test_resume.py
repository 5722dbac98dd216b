"""An interrupted black-box run continues where it stopped: no simulation counted twice, no candidate lost,
the loop's context rebuilt from the records, OpenEvolve resumed from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from glia.blackbox.store import CandidateStore
from glia.orchestrator import RunConfig, execute_run, prepare_run, resume_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import MODEL, Roles, good, simple_problem, unique
from tests.compare.support import SimpleEvaluator
from tests.fake_llm import FakeLLMServer

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simple_problem(tmp_path_factory.mktemp("problem"))


def interrupt_after(candidates: int) -> Any:
    """A progress callback that presses Ctrl-C once the given number of candidates have settled."""

    def progress(event: dict[str, Any]) -> None:
        if event.get("event") == "candidate" and event.get("n") == candidates:
            os.kill(os.getpid(), signal.SIGINT)

    return progress


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "ctx-1" / "transcript.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("method", ["sample", "loop"])
def test_an_interrupted_method_run_resumes_to_its_budget(
    method: str, problem: Path, shared_root: Path, workspace_image: str
) -> None:
    roles = Roles([good(1), good(5), good(3), good(8), good(2)])
    with FakeLLMServer() as server:
        server.handler("*", roles)
        config = RunConfig(task_path=problem, strategy=method, researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=4),
                           workspaces_root=shared_root, run_id=unique(f"resume-{method}"))  # fmt: skip
        run_dir = prepare_run(config)
        first = execute_run(run_dir, progress=interrupt_after(2), evaluator_factory=SimpleEvaluator)
        assert first.status == "interrupted"
        stopped = load_run(run_dir)
        assert stopped["contexts"][0]["status"] == "interrupted" and stopped["usage"]["simulations"] == 2
        assert stopped["best"] is None  # an interrupted search is judged only when it ends
        seen_before = len(server.requests)
        second = resume_run(run_dir, evaluator_factory=SimpleEvaluator)
        after_resume = [r.last_user_text for r in server.requests[seen_before:]]
    assert second.status == "finished"
    data = load_run(run_dir)
    records = CandidateStore(run_dir / "ctx-1").records()
    assert [r.n for r in records] == [1, 2, 3, 4]
    assert [r.run_total for r in records] == [1, 2, 3, 4]  # nothing recounted, nothing lost
    assert data["usage"]["simulations"] == 4 and len(data["sessions"]) == 2
    events = events_of(run_dir)
    assert sum(e["type"] == "context_start" for e in events) == 1
    assert [e["reason"] for e in events if e["type"] == "context_end"] == ["interrupted", "simulation_budget"]
    assert data["best"]["score"] == 11.0  # 3 + 8, the best of the four designs
    if method == "loop":
        # the first prompt after the resume remembers both attempts made before the interruption
        assert "Attempt 1: add 1." in after_resume[0] and "Attempt 2: add 5." in after_resume[0]


def test_openevolve_resumes_from_its_checkpoint(
    problem: Path, shared_root: Path, workspace_image: str
) -> None:
    roles = Roles([], edits=[2, 6, 3, 9, 4, 7])
    with FakeLLMServer() as server:
        server.handler("*", roles)
        config = RunConfig(task_path=problem, strategy="openevolve", researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=5),
                           workspaces_root=shared_root, run_id=unique("resume-openevolve"), blackbox={"workers": 1})  # fmt: skip
        run_dir = prepare_run(config)
        first = execute_run(run_dir, progress=interrupt_after(3), evaluator_factory=SimpleEvaluator)
        assert first.status == "interrupted"
        assert load_run(run_dir)["blackbox"]["openevolve"]["resumed_from"] is None
        second = resume_run(run_dir, evaluator_factory=SimpleEvaluator)
    assert second.status == "finished"
    data = load_run(run_dir)
    records = CandidateStore(run_dir / "ctx-1").records()
    assert sum(1 for r in records if r.origin.get("initial")) == 1  # the initial program ran once only
    assert data["usage"]["simulations"] == 5
    assert [r.run_total for r in records if r.ran] == [1, 2, 3, 4, 5]
    assert "checkpoint_" in (data["blackbox"]["openevolve"]["resumed_from"] or "")
    assert data["best"] is not None and data["best"]["score"] >= 4.0
