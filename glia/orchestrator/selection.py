"""Keeping `best/` and run.json's `best` in step with the trusted judge's choice as verdicts arrive
(contexts of MCG-Par finish concurrently, so one lock orders the writes)."""

from __future__ import annotations

import threading

import structlog

from glia.evaluation.trusted import TrustedVerdict
from glia.orchestrator.best import relative_improvement, write_best
from glia.orchestrator.state import SessionState
from glia.run_store import BEST_DIR

log = structlog.get_logger()


class BestKeeper:
    """Writes the best design whenever the choice changes, or when its context's account arrives."""

    def __init__(self, state: SessionState) -> None:
        self._state = state
        self._written: TrustedVerdict | None = None
        self._has_account = False  # the written best/ has its context's outcome (finish summary)
        self._lock = threading.Lock()

    def forget(self) -> None:
        """After a resume restored the verdicts: write the best again, whatever was on disk."""
        self._written = None

    def refresh(self) -> None:
        with self._lock:
            self._write_if_changed()

    def target_met(self) -> bool:
        """Whether the best trusted design beats the reference baseline by the target improvement."""
        state = self._state
        best = state.judge.best() if state.judge else None
        if best is None:
            return False
        gain = relative_improvement(best.evaluation.score, state.reference_score(), state.task.metric)
        return gain is not None and gain >= state.target_improvement()

    def _write_if_changed(self) -> None:
        state = self._state
        best = state.trusted.best()
        outcome = state.outcomes.get(best.context) if best is not None else None
        # written again when its context's account arrives (a design judged live, before its context ended)
        if best is None or (best is self._written and (outcome is None or self._has_account)):
            return
        write_best(
            state.run_dir,
            state.task,
            best,
            state.baseline_scores,
            outcome.finish_summary if outcome else None,
            outcome.end_reason if outcome else None,
        )
        changed = best is not self._written
        self._written = best
        self._has_account = outcome is not None
        summary = {
            "context": best.context,
            "label": best.label,
            "sha": best.sha,
            "score": best.evaluation.score,
            "reference_baseline": state.task.evaluation.reference_baseline,
            "improvement_over_reference": relative_improvement(
                best.evaluation.score, state.reference_score(), state.task.metric
            ),
            "dir": BEST_DIR,
        }
        state.edits.set_best(summary)
        if changed:
            log.info("selection.best", **{k: v for k, v in summary.items() if k != "dir"})
            state.emit(event="best", **summary)
