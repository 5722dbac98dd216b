"""Trusted evaluation against the real simulator, the design in its own sandbox (Docker)."""

from __future__ import annotations

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
