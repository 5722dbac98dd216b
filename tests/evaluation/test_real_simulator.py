"""Trusted evaluation against the real simulator (sim_repo_template), mostly on the local backend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from glia.evaluation import Evaluator
from glia.task import Task

DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"

HEADER = """\
from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

"""

LLQ_COPY = HEADER + textwrap.indent(
    textwrap.dedent("""\
    def schedule(self):
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            load = {rid: r.num_pending_requests + r.num_active_requests for rid, r in self.replicas.items()}
            decisions.append((min(sorted(load), key=lambda rid: load[rid]), request))
        return decisions
    """),
    "    ",
)

# Spells the hidden field at run time, so the static scan cannot see it; the simulator's guard must.
PEEKS_AT_DECODE = HEADER + textwrap.indent(
    textwrap.dedent("""\
    def schedule(self):
        hidden = "num_" + chr(100) + "ecode_tokens"
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            decisions.append((getattr(request, hidden) % self.num_replicas, request))
        return decisions
    """),
    "    ",
)

# Holds every seventh request forever: a low mean over the requests it did serve must not count.
DROPS_REQUESTS = HEADER + textwrap.indent(
    textwrap.dedent("""\
    def schedule(self):
        decisions = []
        for request in list(self.request_queue):
            if request.id % 7 != 3:
                self.request_queue.remove(request)
                decisions.append((request.id % self.num_replicas, request))
        return decisions
    """),
    "    ",
)

CRASHES = HEADER + "    def schedule(self):\n        raise RuntimeError('router bug on purpose')\n"

NAMES_HIDDEN_FIELD = (
    HEADER
    + "    def schedule(self):\n        return [(0, r) for r in self.request_queue if r.num_decode_tokens]\n"
)


def _evaluator(task: Task, tmp_path: Path, **options) -> Evaluator:
    return Evaluator(task, tmp_path / "run", backend=options.pop("backend", "local"), workers=2, **options)


def test_llq_copy_scores_like_the_llq_baseline(routing_task: Task, tmp_path: Path) -> None:
    evaluator = _evaluator(routing_task, tmp_path)
    baseline = evaluator.evaluate_router("llq")
    design = evaluator.evaluate_design({DESIGN: LLQ_COPY}, "llq-copy")
    assert baseline.valid and design.valid, (baseline.reason, design.reason)
    assert design.score == pytest.approx(baseline.score, rel=0.01)
    main = design.workloads["main"]
    assert [s.seed for s in main.seeds] == [0, 1]
    assert all(s.num_requests > 500 for s in main.seeds)  # 150 s at 7.5 QPS: about 1100 requests
    assert main.ci_low <= main.mean <= main.ci_high
    assert main.p90 >= main.mean > 0


def test_reading_decode_lengths_at_run_time_is_caught(routing_task: Task, tmp_path: Path) -> None:
    evaluation = _evaluator(routing_task, tmp_path).evaluate_design({DESIGN: PEEKS_AT_DECODE}, "peek")
    assert not evaluation.valid and evaluation.score is None
    assert evaluation.reason.startswith("seed 0 (main): ")
    assert "num_decode_tokens" in evaluation.reason


def test_router_that_strands_requests_is_invalid(routing_task: Task, tmp_path: Path) -> None:
    evaluation = _evaluator(routing_task, tmp_path).evaluate_design({DESIGN: DROPS_REQUESTS}, "drop")
    assert not evaluation.valid and evaluation.score is None
    assert "stranded" in evaluation.reason


def test_router_that_crashes_is_invalid(routing_task: Task, tmp_path: Path) -> None:
    evaluation = _evaluator(routing_task, tmp_path).evaluate_design({DESIGN: CRASHES}, "crash")
    assert not evaluation.valid
    assert "router bug on purpose" in evaluation.reason


def test_forbidden_name_is_rejected_before_any_simulation(routing_task: Task, tmp_path: Path) -> None:
    evaluator = _evaluator(routing_task, tmp_path)
    evaluation = evaluator.evaluate_design({DESIGN: NAMES_HIDDEN_FIELD}, "named")
    assert evaluation.reason == f"{DESIGN}:10: uses forbidden name 'num_decode_tokens'"
    assert evaluator.simulations_run == 0


def test_baselines_are_measured_once_then_cached(routing_task: Task, tmp_path: Path) -> None:
    task = routing_task.with_overrides(baselines=["round_robin", "llq"])
    first = _evaluator(task, tmp_path, cache_dir=tmp_path / "cache")
    baselines = first.baselines()
    assert set(baselines) == {"round_robin", "llq"} and all(b.valid for b in baselines.values())
    assert first.simulations_run == 4
    second = Evaluator(task, tmp_path / "run2", backend="local", cache_dir=tmp_path / "cache")
    assert second.baselines() == baselines
    assert second.simulations_run == 0
    brief = task.researcher_brief({name: b.score for name, b in baselines.items()})
    assert f"| llq (reference) | {baselines['llq'].score:.2f} |" in brief


@pytest.mark.docker
def test_docker_backend_scores_like_local(workspace_image: str, routing_task: Task, tmp_path: Path) -> None:
    """`workspace_image` (tests/conftest.py) fails the test when no engine or image is there."""
    task = routing_task.with_overrides(seeds=1)
    local = _evaluator(task, tmp_path / "local").evaluate_design({DESIGN: LLQ_COPY}, "llq-copy")
    in_docker = _evaluator(task, tmp_path / "docker", backend="docker", image=workspace_image)
    scored = in_docker.evaluate_design({DESIGN: LLQ_COPY}, "llq-copy")
    assert scored.valid, scored.reason
    assert scored.score == pytest.approx(local.score, rel=1e-9)  # the simulator is deterministic
    cheat = in_docker.evaluate_design({DESIGN: PEEKS_AT_DECODE}, "peek")
    assert not cheat.valid and "num_decode_tokens" in cheat.reason
