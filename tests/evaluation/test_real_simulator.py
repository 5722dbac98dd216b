"""Trusted evaluation against the real simulator, the design in its own sandbox (Docker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from glia.evaluation import Evaluator
from glia.task import Task

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
LLQ_COPY = (
    (REPO / "sim_repo_template" / "llmsim" / "global_schedulers" / "llq.py")
    .read_text()
    .replace("class LLQGlobalScheduler", "class AIGlobalScheduler")
    .replace('name = "llq"', 'name = "ai"')
)


def test_a_design_in_its_own_sandbox_scores_exactly_like_the_same_router_built_in(
    workspace_image: str, routing_task: Task, tmp_path: Path
) -> None:
    evaluator = Evaluator(routing_task, tmp_path / "run", workers=2, secrets_dir=tmp_path / "secrets")
    baseline = evaluator.evaluate_baseline("llq")
    design = evaluator.evaluate_design({routing_task.design_files[0]: LLQ_COPY}, "llq-copy")
    assert baseline.valid and design.valid, (baseline.reason, design.reason)
    assert (baseline.isolation, design.isolation) == ("builtin", "sandbox")
    assert design.score == baseline.score  # bit for bit: the channel changes nothing
    assert [s.seed for s in design.workloads["main"].seeds] == [
        s.seed for s in baseline.workloads["main"].seeds
    ]
    assert all(s.seed > 2**32 for s in design.workloads["main"].seeds)
    assert 5.0 < design.score < 200.0


SLOW_LLQ = LLQ_COPY.replace(
    "    def schedule(self):\n",
    "    def schedule(self):\n"
    "        total = 0  # slow but correct: about 5 ms of CPU per decision, then decides exactly like LLQ\n"
    "        for i in range(100_000):\n"
    "            total += i * i\n",
    1,
)


def test_a_slow_design_gets_the_same_verdict_and_score_on_a_busy_machine(
    workspace_image: str, routing_task: Task, tmp_path: Path
) -> None:
    """The time limit counts CPU seconds, so 2 x cores busy processes change no verdict and no score."""
    assert "range(100_000)" in SLOW_LLQ
    task = routing_task.with_overrides(seeds=2, duration_s=150, time_limit_s=10)
    files = {task.design_files[0]: SLOW_LLQ}
    with Evaluator(
        task, tmp_path / "run", workers=2, secrets_dir=tmp_path / "secrets", reuse_sandboxes=True
    ) as evaluator:
        idle = evaluator.evaluate_design(files, "slow-idle")
        busy = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(2 * (os.cpu_count() or 1))
        ]
        try:
            loaded = evaluator.evaluate_design(files, "slow-loaded")
        finally:
            for process in busy:
                process.kill()
                process.wait()
    assert idle.valid and loaded.valid, (idle.reason, loaded.reason)
    assert loaded.score == idle.score  # deterministic: the load changes how long it takes, nothing else
    for evaluation in (idle, loaded):
        seeds = evaluation.workloads["main"].seeds
        assert all(s.cpu_time_s is not None and 0 < s.cpu_time_s < 10 for s in seeds)
        assert evaluation.decision_cpu_ms is not None and evaluation.decision_cpu_ms > 1.5  # slow, visibly
    loaded_wall = sum(s.wall_time_s for s in loaded.workloads["main"].seeds)
    idle_cpu = sum(s.cpu_time_s or 0 for s in idle.workloads["main"].seeds)
    print(
        f"idle: {idle.duration_s:.1f} s, loaded: {loaded.duration_s:.1f} s wall; loaded sims {loaded_wall:.1f} s "
        f"wall vs idle {idle_cpu:.1f} s CPU; {idle.decision_cpu_ms:.2f} ms CPU per decision"
    )
