"""The baselines of a run, measured once in the trusted evaluator (a resume reads them back), and the
check that a problem folder's initial program scores the same isolated as it does in its own folder."""

from __future__ import annotations

from typing import Any

import structlog

from glia.errors import GliaUsageError
from glia.orchestrator.state import SessionState
from glia.run_store import EVALUATIONS_DIR, write_json_atomic
from glia.task import Task

log = structlog.get_logger()


def measure_baselines(state: SessionState) -> None:
    """Fill `state.baseline_scores`: from run.json when an earlier session measured them, else now."""
    recorded = state.record.snapshot().get("baselines") or {}
    if recorded:
        state.baseline_scores = {name: item.get("score") for name, item in recorded.items()}
        return
    log.info("baselines.start", routers=list(state.task.evaluation.baselines))
    evaluations = state.trusted.evaluator.baselines()
    check_faithful(state.task, evaluations, state.trusted.evaluator)
    folder = state.run_dir / EVALUATIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, evaluation in evaluations.items():
        write_json_atomic(folder / f"{name}.json", evaluation.to_dict())
        primary = evaluation.primary if evaluation.valid else None
        summary[name] = {
            "score": evaluation.score,
            "valid": evaluation.valid,
            "reason": evaluation.reason,
            "ci_low": primary.ci_low if primary else None,
            "ci_high": primary.ci_high if primary else None,
        }
    state.baseline_scores = {name: item["score"] for name, item in summary.items()}
    state.edits.set_baselines(summary)
    log.info("baselines.done", scores=state.baseline_scores)
    state.emit(event="baselines", scores=state.baseline_scores)


def check_faithful(task: Task, evaluations: dict[str, Any], evaluator: Any) -> None:
    """A task whose kind names a faithfulness baseline (a problem folder's initial program) and that
    scores differently isolated stops the run on setup."""
    from glia.evaluation import Evaluator
    from glia.evaluation.faithful import check_initial_program
    from glia.task_kinds import kind_of

    reference = kind_of(task).faithfulness_baseline
    if reference is None or not (isinstance(evaluator, Evaluator) and evaluator.backend == "docker"):
        return
    verdict = check_initial_program(task, evaluations.get(reference), evaluator, reference)
    if not verdict.faithful:
        raise GliaUsageError(f"glia solve stopped: {verdict.reason}")
