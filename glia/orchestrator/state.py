"""What the parts of one run session share: the run's folder, record, settings, budget, stop flag,
progress callback, and what the session has learned so far (baselines, context outcomes, the judge)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from glia.budget import Budget
from glia.evaluation.trusted import TrustedJudge
from glia.orchestrator.config import RunConfig
from glia.orchestrator.run_edits import RunEdits
from glia.record.outcome import ContextOutcome
from glia.record.run import context_entry
from glia.run_store import RunRecord
from glia.task import Task

log = structlog.get_logger()

Progress = Callable[[dict[str, Any]], None]


@dataclass
class SessionState:
    """One session's shared state; each part of the orchestrator reads and extends it."""

    run_dir: Path
    record: RunRecord
    config: RunConfig
    task: Task
    budget: Budget
    progress: Progress | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    judge: TrustedJudge | None = None
    baseline_scores: dict[str, float | None] = field(default_factory=dict)
    outcomes: dict[int, ContextOutcome] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.edits = RunEdits(self.record, self.budget)

    @property
    def run_id(self) -> str:
        return str(self.config.run_id)

    @property
    def trusted(self) -> TrustedJudge:
        """The trusted judge (made when the session starts, before any context runs)."""
        assert self.judge is not None
        return self.judge

    def reference_score(self) -> float | None:
        return self.baseline_scores.get(self.task.evaluation.reference_baseline)

    def target_improvement(self) -> float:
        if self.config.target_improvement is not None:
            return self.config.target_improvement
        return self.task.defaults.target_improvement

    def context_entry(self, index: int) -> dict[str, Any]:
        return context_entry(self.record.snapshot(), index)

    def emit(self, **event: Any) -> None:
        """Tell the progress view; a broken view must not stop research."""
        if self.progress is None:
            return
        try:
            self.progress(event)
        except Exception:
            log.exception("progress.callback_failed", progress_event=event.get("event"))
