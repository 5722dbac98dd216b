"""A context's repository lives in its sandbox; its history on the host (ctx-K/history.git) is written
from exported trees: after every command that changed the tree, at every simulation start, at the end.
A resumed context's sandbox is rebuilt from the last saved tree.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from glia.budget import Budget
from glia.context import ContextSpec, run_context
from glia.record.transcript import read_events
from glia.task import BudgetLimits
from glia.task_kinds import load_task
from glia.workspace import History, Limits
from tests.agents.scripting import ScriptedProvider, approve, bash, finish

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"
EDIT = f"echo '# tuned by the test' >> {DESIGN}"
BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), "local"]


def spec_for(tmp_path: Path, backend: str, researcher: ScriptedProvider, run_id: str) -> ContextSpec:
    return ContextSpec(
        run_id=run_id,
        index=1,
        ctx_dir=tmp_path / "run" / "ctx-1",
        task=load_task(REPO_ROOT / "tasks" / "llm_routing.md"),
        researcher=researcher,
        supervisor=ScriptedProvider("sup-model", [approve()] * 3),
        backend=backend,
        limits=Limits(default_timeout_s=120),
    )


def messages(history: History) -> list[str]:
    return [history.message(sha).splitlines()[0] for sha in history.commits()]


@pytest.mark.parametrize("backend", BACKENDS)
def test_commands_and_simulations_are_saved_to_the_host_history(tmp_path, backend, request):
    if backend == "docker":
        request.getfixturevalue("workspace_image")
    researcher = ScriptedProvider(
        "researcher-model",
        [
            bash("git log --format=%s; git status --porcelain"),
            bash(EDIT),
            bash("./run_all.sh --duration 20 > /dev/null 2>&1; echo exit=$?"),
            bash("ls simulator_results | wc -l"),
            finish(),
        ],
    )
    spec = spec_for(tmp_path, backend, researcher, f"ctxws-{uuid.uuid4().hex[:8]}")
    result = run_context(spec, Budget(BudgetLimits(simulations=5)), threading.Event())

    assert result.end_reason == "finished", result.error
    history = History(spec.ctx_dir / "history.git")
    assert not (spec.ctx_dir / "repo").exists()
    assert result.final_sha == history.head()
    assert messages(history)[0] == "pristine template"
    assert messages(history)[1] == f"after: {EDIT}"
    assert any(m.startswith("sim 1") for m in messages(history)), messages(history)
    assert messages(history)[-1] == "final"
    assert len(history.commits()) == 4  # the template, the edit, simulation 1, final: nothing else changed
    assert history.read_text(result.final_sha, DESIGN).endswith("# tuned by the test\n")
    assert history.changed_paths(history.first_commit(), result.final_sha) == [DESIGN]  # results never saved
    outputs = {
        e["id"]: e["output"]
        for e in read_events(spec.ctx_dir / "transcript.jsonl")
        if e["type"] == "tool_result"
    }
    first_call = researcher.requests[1].messages[-1].tool_call_id
    assert outputs[first_call].startswith("[exit code 0") and "pristine template" in outputs[first_call]
    errors = [e for e in read_events(spec.ctx_dir / "transcript.jsonl") if e["type"] == "error"]
    assert errors == []


@pytest.mark.docker
def test_a_resumed_context_gets_its_last_saved_tree_back(tmp_path, workspace_image):
    stop = threading.Event()
    first = ScriptedProvider(
        "researcher-model",
        [bash(EDIT), bash("echo scratch > notes.txt")],
        on_call=lambda n: stop.set() if n == 3 else None,  # the third turn never gets to run
    )
    run_id = f"ctxws-{uuid.uuid4().hex[:8]}"
    spec = spec_for(tmp_path, "docker", first, run_id)
    interrupted = run_context(spec, Budget(BudgetLimits(simulations=5)), stop)
    assert interrupted.end_reason == "interrupted"
    history = History(spec.ctx_dir / "history.git")
    saved = history.head()
    assert interrupted.final_sha == saved and history.read_file(saved, "notes.txt") == b"scratch\n"

    second = ScriptedProvider(
        "researcher-model",
        [bash(f"tail -1 {DESIGN}; cat notes.txt; git log --format=%s; git status --porcelain"), finish()],
    )
    resumed = run_context(
        spec_for(tmp_path, "docker", second, run_id), Budget(BudgetLimits()), threading.Event(), resume=True
    )
    assert resumed.end_reason == "finished", resumed.error
    output = second.requests[1].messages[-1].content
    assert "# tuned by the test\nscratch\npristine template\n M " + DESIGN in output
    assert "?? notes.txt" in output
