"""Whole runs on the real path: real contexts, real SDKs against the fake model server, real Docker
sandboxes and the real trusted evaluator, on a quick variant of the routing task."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from glia.orchestrator import RunConfig, execute_run, prepare_run, resume_run
from glia.run_store import load_run
from glia.task import BudgetLimits
from tests.blackbox.support import unique
from tests.fake_llm import FakeLLMServer

from .e2e_support import (
    REPO_ROOT,
    SUBPROCESS_RUNNER,
    ConversationScript,
    approve,
    python,
    run_containers,
    work_phase,
    write_quick_task,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def quick_task(tmp_path_factory) -> Path:
    return write_quick_task(tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory) -> Path:
    """Shared by the module's runs so the baselines are measured once (they are cached per task)."""
    return tmp_path_factory.mktemp("workspaces")


def test_mcg_par3_with_one_context_failing_for_good(workspaces, quick_task, workspace_image) -> None:
    script = ConversationScript({"work": work_phase}, phase="work", fail={2})
    run_id = unique("e2e-par3")  # container names go by run id: unique per test session
    with FakeLLMServer() as server:
        server.handler("researcher-model", script)
        server.handler("supervisor-model", approve)
        config = RunConfig(
            task_path=quick_task,
            strategy="mcg-par-3",
            researcher_model="openai:researcher-model",
            supervisor_model="openai:supervisor-model",
            base_url=server.openai_base_url,
            budgets=BudgetLimits(steps=20, simulations=10),
            workspaces_root=workspaces,
            image=workspace_image,
            run_id=run_id,
        )
        result = execute_run(prepare_run(config))
        assert server.problems == []

    assert result.status == "finished" and result.strategy_label == "MCG-Par3"
    contexts = {c["context"]: c for c in result.contexts}
    reasons = sorted(c["end_reason"] for c in contexts.values())
    assert reasons == ["finished", "finished", "model_error"]
    failed = next(c for c in contexts.values() if c["end_reason"] == "model_error")
    assert failed["simulations"] == 0 and failed["trusted"] == [] and "401" in failed["error"]
    assert "untouched template" in failed["evaluation_problems"][0]
    for ctx in contexts.values():
        if ctx["end_reason"] == "finished":
            assert ctx["simulations"] == 1 and ctx["best_trusted"] is not None
            assert ctx["trusted"][0]["valid"] is True

    run = load_run(result.run_dir)
    assert run["usage"]["simulations"] == 2
    assert set(run["baselines"]) == {"llq", "round_robin"}
    assert all(b["valid"] for b in run["baselines"].values())
    assert run["usage"]["cost_known"] is False and run["notes"]  # the fake models have no price
    best = result.best
    scores = [c["best_trusted"] for c in contexts.values() if c["best_trusted"] is not None]
    assert best["score"] == min(scores)
    assert "num_pending_requests" in (result.run_dir / "best" / "ai_global_scheduler.py").read_text()
    evaluation = json.loads((result.run_dir / "best" / "evaluation.json").read_text())
    assert evaluation["valid"] is True and evaluation["workloads"]["main"]["seeds"][0]["seed"] == 0
    assert "+" in (result.run_dir / "best" / "design.diff").read_text()
    assert "Least-loaded routing" in (result.run_dir / "best" / "explanation.md").read_text()
    assert run_containers(run_id) == []


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _start_run_process(workspaces: Path, quick_task: Path, run_id: str, base_url: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    args = [python(), "-c", SUBPROCESS_RUNNER, str(quick_task), str(workspaces), run_id, base_url]
    return subprocess.Popen(
        args, cwd=workspaces, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _both_contexts_busy(server: FakeLLMServer) -> bool:
    """Each conversation has sent a request after its first command: both containers run commands."""
    seen = {ConversationScript.position(r)[0] for r in server.requests_for("researcher-model")}
    return {1, 2} <= seen


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_leaves_no_containers_and_a_resumable_run(
    workspaces, quick_task, workspace_image, presses
) -> None:
    """One Ctrl-C stops gracefully; two exit at once. Either way no container is left and resume finishes."""
    script = ConversationScript({"wait": lambda n: ["sleep 1"] * 200, "work": work_phase}, phase="wait")
    run_id = f"e2e-ctrl-c-{presses}"
    with FakeLLMServer() as server:
        server.handler("researcher-model", script)
        server.handler("supervisor-model", approve)
        process = _start_run_process(workspaces, quick_task, run_id, server.openai_base_url)
        try:
            _wait_for(lambda: _both_contexts_busy(server), 90, "both contexts to run commands")
            for _ in range(presses):
                process.send_signal(signal.SIGINT)
                time.sleep(0.3)
            output, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == (0 if presses == 1 else 130), output
        assert run_containers(run_id) == []

        run_dir = workspaces / run_id
        run = load_run(run_dir)
        assert run["status"] == "interrupted", output
        assert all(c["status"] != "finished" for c in run["contexts"])
        if presses == 1:
            assert "STATUS interrupted" in output
            assert [c["end_reason"] for c in run["contexts"]] == ["interrupted", "interrupted"]

        script.phase = "work"  # the resumed contexts write a router, benchmark it and finish
        result = resume_run(run_dir)
        assert server.problems == []

    assert result.status == "finished"
    assert [c["end_reason"] for c in result.contexts] == ["finished", "finished"], result.contexts
    assert all(c["simulations"] == 1 and c["best_trusted"] is not None for c in result.contexts), (
        result.contexts
    )
    assert result.best is not None and (run_dir / "best" / "ai_global_scheduler.py").is_file()
    run = load_run(run_dir)
    assert [s["resumed"] for s in run["sessions"]] == [False, True]
    assert run_containers(run_id) == []
