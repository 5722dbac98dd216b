"""A whole context through the real SDKs (fake model server) and the real Docker sandbox.

The scripted Researcher speaks the OpenAI protocol, the Supervisor the Anthropic one. The Researcher
greps the simulator, writes an analysis script, writes a router into the design file, benchmarks it
(a real, short simulation), tries to finish, is sent back by the Supervisor, improves the router,
benchmarks again and finishes with approval.
"""

import dataclasses
import re
import threading
from pathlib import Path

import pytest

from glia.budget import Budget
from glia.context import ContextSpec, run_context
from glia.llm import make_provider
from glia.record.transcript import read_events
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from glia.workspace import History
from tests.blackbox.support import unique
from tests.fake_llm import FakeLLMServer, reply, tool_call

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
BENCHMARK = "python -m llmsim run --router ai --qps 7.5 --seed 0 --duration 100"
CRITIQUE = "You compared against nothing: how does LLQ do under the same seed? Weigh waiting requests."

ANALYSIS_SCRIPT = """mkdir -p analysis && cat > analysis/summarize.py <<'PY'
import json, pathlib
import pandas as pd

runs = sorted(pathlib.Path("simulator_results").glob("*/*/summary.json"))
latest = runs[-1].parent
summary = json.loads((latest / "summary.json").read_text())
metrics = pd.read_csv(latest / "request_metrics.csv")
print(f"run {latest}: mean_e2e {summary['mean_e2e']:.3f} over {len(metrics)} requests")
PY
echo written"""


def router(pending_weight: int) -> str:
    return f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            return ({pending_weight} * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
PY
echo router written"""


def bash(command: str, text: str = "") -> object:
    return reply(text, [tool_call("bash", {"command": command})])


def finish(design: str) -> object:
    summary = {"design": design, "evidence": "see the runs above", "tried_and_rejected": "random routing"}
    return reply("I think this is done.", [tool_call("finish", summary)])


@pytest.mark.docker
def test_a_researcher_is_sent_back_once_then_finishes(tmp_path, workspace_image):
    task = load_task(REPO_ROOT / "tasks" / "llm_routing.md")
    # the scripted benchmark (100 generated seconds) is a claim under these conditions, not an experiment
    task = dataclasses.replace(
        task, benchmark=dataclasses.replace(task.benchmark, conditions={"router": "ai", "duration": 100})
    )
    with FakeLLMServer() as server:
        server.script(
            "researcher-model",
            [
                bash("grep -rn 'def schedule' llmsim/global_schedulers | head -20", "Where do routers live?"),
                bash(ANALYSIS_SCRIPT, "A script to summarise each run."),
                bash(router(pending_weight=1), "Start from least-loaded routing."),
                bash(f"{BENCHMARK} | tail -1 && python analysis/summarize.py", "Benchmark it."),
                finish("least-loaded routing"),
                bash(router(pending_weight=3), "Weigh waiting requests more."),
                bash(f"{BENCHMARK} | tail -1", "Benchmark the revision."),
                finish("least-loaded routing that weighs waiting requests three times"),
            ],
        )
        server.script(
            "supervisor-model",
            [
                reply(f"{CRITIQUE}\n\nVERDICT: REVISE"),
                reply("The comparison is there now.\nVERDICT: APPROVE"),
            ],
        )
        spec = ContextSpec(
            run_id=unique("e2e"),  # container names go by run id: unique per test session
            index=0,
            ctx_dir=tmp_path / "ctx-0",
            task=task,
            researcher=make_provider(
                "openai:researcher-model", base_url=server.openai_base_url, max_retries=1
            ),
            supervisor=make_provider(
                "anthropic:supervisor-model", base_url=server.anthropic_base_url, max_retries=1
            ),
            backend="docker",
            image=workspace_image,
            baselines={"llq": 21.0},
            max_steps=20,
        )
        result = run_context(spec, Budget(BudgetLimits(simulations=10)), threading.Event())
        server.assert_script_consumed()
        researcher_requests = server.requests_for("researcher-model")
        supervisor_requests = server.requests_for("supervisor-model")

    assert (result.end_reason, result.error, result.steps, result.simulations) == ("finished", None, 8, 2)
    assert result.finish_summary["design"].startswith("least-loaded routing that weighs")
    assert result.tokens > 0

    # the Supervisor's critique reached the Researcher's next request, marked, as the finish result
    after_finish = researcher_requests[5]
    finish_id = after_finish.messages[-2]["tool_calls"][0]["id"]
    last = after_finish.messages[-1]
    assert (last["role"], last["tool_call_id"]) == ("tool", finish_id)
    assert after_finish.tool_results[-1]["content"] == f"[Supervisor] {CRITIQUE}"
    assert researcher_requests[0].tool_names == ["bash", "finish"]

    # the Supervisor saw the brief and the transcript, and no tools
    first_review = supervisor_requests[0]
    assert first_review.protocol == "anthropic" and first_review.tool_names == []
    assert "tools" not in first_review.body
    review_text = first_review.last_user_text
    assert task.body.splitlines()[0] in review_text
    assert "(command)\n<<untrusted-" in review_text
    assert "\ngrep -rn 'def schedule' llmsim/global_schedulers" in review_text
    assert re.search(r"\| 1 \| <<untrusted-\w+>>simulator_results/sharegpt_7\.5_seed0_ai/", review_text)
    assert "The Researcher has called `finish`" in review_text
    assert "SUPERVISOR (finish, verdict revise)" in supervisor_requests[1].last_user_text

    # two real simulations, two snapshots whose design files differ, claims match the runs' summaries
    history = History(spec.ctx_dir / "history.git")
    first, second = result.snapshots
    designs = [history.read_text(s.sha, DESIGN) for s in (first, second)]
    assert "(1 * replica.num_pending_requests" in designs[0]
    assert "(3 * replica.num_pending_requests" in designs[1]
    sims = [e for e in read_events(spec.ctx_dir / "transcript.jsonl") if e["type"] == "simulation"]
    for snap, sim in zip(result.snapshots, sims, strict=True):
        summary = sim["values"]  # the summary the simulator reported (its folder stayed in the sandbox)
        assert sim["valid"] is True and summary["num_completed"] == summary["num_requests"] > 0
        assert snap.claimed_score == sim["claimed_score"] == summary["mean_e2e"]
    benchmark_output = after_finish.tool_results[3]["content"]
    assert f"mean_e2e: {first.claimed_score:.3f}" in benchmark_output
    assert "requests" in benchmark_output and "over" in benchmark_output  # the analysis script ran
    assert "Simulations used in this session: 1. Remaining budget: simulations 9" in benchmark_output
    assert result.best_claimed == min(result.snapshots, key=lambda s: s.claimed_score)
    assert history.message(history.head()).strip() == "final" and result.final_sha == history.head()

    kinds = [e["type"] for e in read_events(spec.ctx_dir / "transcript.jsonl")]
    for kind in ("context_start", "user", "assistant", "model_call", "tool_result", "simulation", "budget"):
        assert kind in kinds
    assert kinds.count("supervisor") == 2 and kinds.count("finish") == 2 and kinds[-1] == "context_end"
    assert (spec.ctx_dir / "notes.md").read_text().strip()
