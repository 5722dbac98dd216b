"""Test doubles for driving the orchestrator without models or Docker.

- `write_toy_task`: a task file over a tiny template whose design file holds `SCORE = <number>`.
- `FakeEvaluator`: the trusted score of a design is the number in its file (the truth), baselines are fixed.
- `ScriptedContexts`: a context runner that commits designs to the context's real history from a per-context plan,
  charges the shared budget like a real context, honours the stop event and the budget, and may lie
  about its scores, fail, or raise. With `Plan(events=True)` it also writes the transcript events a real
  context writes for each simulation and model call (what the live judge and recovery read).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from glia.evaluation import Evaluation, SeedResult, WorkloadScore
from glia.metric import Metric
from glia.record.outcome import ContextOutcome, SnapshotRef
from glia.record.transcript import Transcript
from glia.workspace import History, TreeEntry, tree_from_folder
from glia.workspace.history import HISTORY_DIR
from glia.workspace.tree import MODE_FILE

DESIGN_FILE = "router/design.py"
BASELINES = {"llq": 50.0, "round_robin": 60.0}

TASK_TEXT = """---
name: toy
title: A toy routing task
simulator: template
design: {{slot: router, files: [{design}], name: ai}}
baselines: [llq, round_robin]
metric: {{name: mean_e2e, direction: minimize, unit: s}}
benchmark: {{command: ./run_all.sh, results_dir: simulator_results}}
evaluation:
  command: python -m toy --router {{design}} --qps {{qps}} --seed {{seed}} --output-root {{output_root}}
  time_limit_s: 30
  reference: llq
  workloads:
    - {{name: main, qps: 2, seeds: [0, 1, 2]}}
    - {{name: heldout, qps: 3, seeds: [10, 11, 12], heldout: true}}
defaults: {{strategy: scg, contexts: 2, target_improvement: 0.3}}
budgets: {{steps: 50}}
---
# Toy task

Make `SCORE` small.
"""


def write_toy_task(root: Path) -> Path:
    template = root / "template"
    (template / "router").mkdir(parents=True)
    (template / DESIGN_FILE).write_text(design_text(100.0), encoding="utf-8")
    (template / "README.md").write_text("toy simulator\n", encoding="utf-8")
    path = root / "toy.md"
    path.write_text(TASK_TEXT.format(design=DESIGN_FILE), encoding="utf-8")
    return path


def design_text(score: float, note: str = "") -> str:
    return f"# a router design {note}\nSCORE = {score!r}\n"


# ------------------------------------------------------------------------------------------ evaluator


def fake_evaluation(label: str, score: float | None, reason: str | None = None) -> Evaluation:
    if score is None:
        return Evaluation.invalid(label, reason or "invalid design")
    seeds = [SeedResult(seed=s, values={"mean_e2e": score + d}) for s, d in ((0, -1.0), (1, 0.0), (2, 1.0))]
    main = WorkloadScore.from_seeds("main", {"qps": 2}, False, False, seeds, Metric("mean_e2e", "minimize"))
    return Evaluation(label=label, valid=True, reason=None, score=main.mean, workloads={"main": main})


class FakeEvaluator:
    """Same constructor as glia.evaluation.Evaluator; scores are read from the design text."""

    instances: list[FakeEvaluator] = []

    def __init__(self, task: Any, work_dir: Path, backend: str = "docker", image: str | None = None,
                 workers: int | None = None, cache_dir: Path | None = None,
                 secrets_dir: Path | None = None, **options: Any) -> None:  # fmt: skip
        self.task = task
        self.work_dir = work_dir
        self.backend = backend
        self.evaluated: list[tuple[str, float | None]] = []
        self.baseline_calls = 0
        self.crash_on: set[float] = set()
        self.lock = threading.Lock()
        FakeEvaluator.instances.append(self)

    def baselines(self) -> dict[str, Evaluation]:
        self.baseline_calls += 1
        return {name: fake_evaluation(name, score) for name, score in BASELINES.items()}

    def evaluate_design(self, files: dict[str, str], label: str) -> Evaluation:
        text = files[DESIGN_FILE]
        match = re.search(r"^SCORE = ([0-9.]+)$", text, re.MULTILINE)
        score = float(match.group(1)) if match else None
        with self.lock:
            self.evaluated.append((label, score))
        if score in self.crash_on:
            raise RuntimeError("simulator exploded")
        if "INVALID" in text:
            return fake_evaluation(label, None, "requests left unfinished")
        return fake_evaluation(label, score)


# ------------------------------------------------------------------------------------------ providers


@dataclass
class FakeProviders:
    """provider_factory(model, base_url=...) -> an object with `.model`; fails if `error` is set."""

    error: Exception | None = None
    made: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, model: str, base_url: str | None = None, **options: Any) -> Any:
        if self.error is not None:
            raise self.error
        self.made.append((model, base_url))
        return SimpleNamespace(model=model)


# ------------------------------------------------------------------------------------ context runner


@dataclass
class Design:
    """One step of a scripted context: write a design whose true score is `true`, claim `claimed`."""

    true: float
    claimed: float | None = None  # None: claim the truth
    cost_usd: float | None = 0.5
    tokens: int = 1000
    sleep_s: float = 0.0
    after: Callable[[], None] | None = None  # e.g. send SIGINT to the process


@dataclass
class Plan:
    designs: list[Design] = field(default_factory=list)
    end_reason: str = "finished"
    raises: Exception | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None
    barrier: threading.Barrier | None = None  # all contexts must be inside at the same time
    events: bool = False  # write simulation and model_call events to the transcript, as a real context does


class ScriptedContexts:
    """A context runner (spec, budget, stop, resume) following a plan per context index."""

    def __init__(self, template: Path, plans: dict[int, Plan], default: Plan | None = None) -> None:
        self.template = template
        self.plans = plans
        self.default = default
        self.calls: list[tuple[int, bool]] = []
        self.progress: dict[int, int] = {}  # designs done per context, carried across a resume
        self.snapshots: dict[int, list[SnapshotRef]] = {}
        self.specs: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, spec: Any, budget: Any, stop: threading.Event, resume: bool = False) -> ContextOutcome:
        index = spec.index
        with self.lock:
            self.calls.append((index, resume))
            self.specs.append(spec)
        plan = self.plans.get(index, self.default)
        assert plan is not None, f"no plan for context {index}"
        if plan.barrier is not None:
            plan.barrier.wait(timeout=10)
        if plan.raises is not None:
            raise plan.raises
        history = context_history(spec.ctx_dir, self.template)
        (spec.ctx_dir / "transcript.jsonl").touch()
        transcript = Transcript(spec.ctx_dir / "transcript.jsonl") if plan.events else None
        snaps = self.snapshots.setdefault(index, [])
        done = self.progress.get(index, 0)
        steps, cost, tokens = 0, 0.0, 0
        end_reason = plan.end_reason
        for number, design in enumerate(plan.designs[done:], start=done + 1):
            if stop.is_set():
                end_reason = "interrupted"
                break
            if (reason := budget.exhausted()) is not None:
                end_reason = reason
                break
            sha = commit_design(
                spec.ctx_dir, design_text(design.true, f"ctx{index} step{number}"), f"design {number}"
            )
            budget.charge_cost(design.cost_usd, design.tokens)
            total = budget.charge_simulations(1)
            claimed = design.true if design.claimed is None else design.claimed
            snaps.append(
                SnapshotRef(sha=sha, sim_index=number, claimed_score=claimed, valid=True, run_total=total)
            )
            if transcript is not None:
                transcript.append(
                    "model_call",
                    agent="researcher",
                    model="fake",
                    tokens=design.tokens,
                    cost_usd=design.cost_usd,
                )
                transcript.append(
                    "simulation_started",
                    index=number,
                    kind="claim",
                    snapshot=sha,
                    run_total=total,
                    conditions={"router": "ai"},
                )
                transcript.append("simulation", index=number, kind="claim", outcome="ended", valid=True,
                                  claimed_score=claimed, values={"mean_e2e": claimed}, snapshot=sha)  # fmt: skip
            steps += 1
            cost += design.cost_usd or 0.0
            tokens += design.tokens
            self.progress[index] = number
            if design.sleep_s:
                time.sleep(design.sleep_s)
            if design.after is not None:
                design.after()
        best = min(
            (s for s in snaps if s.claimed_score is not None), key=lambda s: s.claimed_score, default=None
        )
        if transcript is not None:
            transcript.close()
        return ContextOutcome(
            index=index,
            end_reason=end_reason,
            steps=steps,
            simulations=len(snaps),
            cost_usd=cost,
            tokens=tokens,
            final_sha=snaps[-1].sha if snaps else history.head(),  # like a real context: the tree as left
            snapshots=list(snaps),
            best_claimed=best,
            finish_summary=plan.summary if end_reason == "finished" else None,
            error=plan.error,
        )


def context_history(ctx_dir: Path, template: Path) -> History:
    """The context's history.git, made from the template the first time (as a real context does)."""
    if (ctx_dir / HISTORY_DIR / "HEAD").is_file():
        return History(ctx_dir / HISTORY_DIR)
    return History.create(ctx_dir / HISTORY_DIR, tree_from_folder(template))


def commit_design(ctx_dir: Path, text: str, message: str) -> str:
    """Commit the head tree with the design file set to `text`; returns the new sha."""
    history = History(ctx_dir / HISTORY_DIR)
    tree = history.tree_at(history.head()).replace({DESIGN_FILE: TreeEntry(MODE_FILE, text.encode())})
    return history.commit(tree, message)


class Cleanup:
    """container_cleanup stand-in: remembers which runs were cleaned; `leftovers` are what each pass
    reports as found and removed (then nothing)."""

    def __init__(self, leftovers: list[list[str]] | None = None) -> None:
        self.run_ids: list[str] = []
        self.leftovers = list(leftovers or [])

    def __call__(self, run_id: str) -> list[str]:
        self.run_ids.append(run_id)
        return self.leftovers.pop(0) if self.leftovers else []
