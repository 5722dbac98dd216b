"""The judge in the Researcher's hands: a scripted Researcher checks its design with `python -m llmsim check`
in the real workspace, and the real trusted evaluation then says what the checker said it would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.record.transcript import read_events
from glia.task import BudgetLimits
from tests.blackbox.support import unique
from tests.fake_llm import FakeLLMServer

from .e2e_support import DESIGN, ConversationScript, approve, write_quick_task

pytestmark = pytest.mark.docker

GOOD = f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            return (2 * replica.num_pending_requests + replica.num_active_requests, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))
PY"""

# Fails only in the isolated run, after 50 simulated seconds (the router reads the clock, `self.now`).
LATE_BUG = f"""cat > {DESIGN} <<'PY'
from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        target = 99 if self.now > 50 else 0
        return self.route_all(lambda request: target)
PY"""

CHECK = "python -m llmsim check; echo exit=$?"


def researcher(conversation: int) -> list[str]:
    return [GOOD if conversation == 1 else LATE_BUG, CHECK]


def test_the_checker_says_what_the_judge_says(tmp_path: Path, workspace_image: str) -> None:
    task = write_quick_task(tmp_path)
    script = ConversationScript({"work": researcher}, phase="work")
    with FakeLLMServer() as server:
        server.handler("researcher-model", script)
        server.handler("supervisor-model", approve)
        config = RunConfig(
            task_path=task,
            strategy="mcg-par-2",
            researcher_model="openai:researcher-model",
            supervisor_model="openai:supervisor-model",
            base_url=server.openai_base_url,
            budgets=BudgetLimits(steps=20, simulations=10),
            workspaces_root=tmp_path / "workspaces",
            image=workspace_image,
            run_id=unique("e2e-checker"),  # container names go by run id: unique per test session
        )
        result = execute_run(prepare_run(config))
        assert server.problems == []

    contexts = {int(str(c["context"]).removeprefix("ctx-")): c for c in result.contexts}
    said = {}  # which design a context got depends on which asked the model first: sort them by output
    for index, context in contexts.items():
        events = read_events(result.run_dir / f"ctx-{index}" / "transcript.jsonl")
        outputs = [
            e["output"]
            for e in events
            if e["type"] == "tool_result" and "llmsim check" in (e.get("command") or "")
        ]
        assert len(outputs) == 1, outputs
        said["good" if "exit=0" in outputs[0] else "bad"] = (outputs[0], context)
    (said_good, good), (said_bad, bad) = said["good"], said["bad"]
    assert good["simulations"] == 1 and bad["simulations"] == 1  # the check's isolated run is counted

    # the valid design: the checker's run is the judge's own command on seed 0, so the scores agree exactly
    assert "static checks: pass" in said_good and "exit=0" in said_good, said_good
    assert "the judge will say: valid" in said_good
    checked = float(re.search(r"mean_e2e: ([0-9.]+)", said_good).group(1))
    verdict = good["trusted"][0]
    assert verdict["valid"] is True
    assert verdict["score"] == pytest.approx(checked, rel=1e-12)

    # the design that fails at run time: the same reason, word for word
    assert "exit=1" in said_bad, said_bad
    predicted = re.search(r"the judge will say: invalid: (.*)", said_bad).group(1).strip()
    assert "RouterError" in predicted and "unknown replica 99" in predicted
    judged = bad["trusted"][0]
    assert judged["valid"] is False and judged["reason"] == predicted
