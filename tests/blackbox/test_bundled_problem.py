"""A black-box method end to end on a bundled OpenEvolve-style problem (`tasks/cache_eviction`), with the
real trusted evaluator: the problem's own initial program, proposed again by the model, is benchmarked in
the sandbox and then scores exactly the reference baseline's trusted score; a broken design is rejected
before it costs a simulation. One public seed for the main workload keeps the trusted evaluation short.
(Every bundled task's prompts and checks: test_every_task.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.blackbox.store import REJECTED, VALID, CandidateStore
from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from tests.blackbox.support import MODEL, unique
from tests.fake_llm import FakeLLMServer, reply

pytestmark = pytest.mark.docker

PROBLEM = Path(__file__).resolve().parents[2] / "tasks" / "cache_eviction"


def test_sample_on_the_cache_eviction_problem_rescores_the_reference_exactly(
    shared_root: Path, workspace_image: str
) -> None:
    start = (Path(load_task(PROBLEM).simulator) / "initial_program.py").read_text(encoding="utf-8")
    replies = iter(
        [
            f"Idea: the reference policy.\n\n```python\n{start}```\n",
            "Idea: broken.\n\n```python\ndef evict(:\n```\n",
        ]
        * 3
    )
    with FakeLLMServer() as server:
        server.handler("*", lambda request: reply(next(replies), input_tokens=1000, output_tokens=200))
        config = RunConfig(task_path=PROBLEM, strategy="sample", researcher_model=MODEL, supervisor_model=MODEL,
                           base_url=server.openai_base_url, budgets=BudgetLimits(simulations=2),
                           workspaces_root=shared_root, run_id=unique("cache-sample"), seeds=[0])  # fmt: skip
        result = execute_run(prepare_run(config))
    assert result.status == "finished"
    data = load_run(result.run_dir)
    records = CandidateStore(result.run_dir / "ctx-1").records()
    assert [r.status for r in records] == [VALID, REJECTED, VALID]
    assert "initial_program.py" in (records[1].error or "") and records[1].sim_index is None
    assert data["usage"]["simulations"] == 2 and data["contexts"][0]["end_reason"] == "simulation_budget"
    reference = data["baselines"]["initial_program"]["score"]
    assert 0.0 < reference < 1.0  # hits relative to the offline optimum
    assert data["best"]["score"] == pytest.approx(reference, abs=1e-12)
