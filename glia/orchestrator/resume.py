"""Starting a session over an existing run folder: refusing what cannot be started or continued,
correcting run.json from the durable record, and reloading what earlier sessions decided."""

from __future__ import annotations

from pathlib import Path

import structlog

from glia import strategies
from glia.evaluation.trusted import TrustedVerdict, load_evaluation
from glia.orchestrator.state import SessionState
from glia.record.outcome import ContextOutcome
from glia.record.reconcile import reconcile_run
from glia.record.run import RunDoc

log = structlog.get_logger()


class RunNotResumable(RuntimeError):
    """The run cannot be executed or resumed in its current state (the message says why)."""


def check_startable(run_dir: Path, resuming: bool) -> None:
    """Refuse to execute a run twice, to resume a finished one or one this Glia cannot continue."""
    doc = RunDoc.read(run_dir)
    if not resuming:
        started = [c.context for c in doc.contexts if c.status != "pending"]
        if doc.status != "running" or started or doc.sessions:
            raise RunNotResumable(
                f"run {doc.run_id} has already been started (status {doc.status}); "
                "use resume_run / `glia resume` to continue it"
            )
        return
    problem = doc.resume_problem()
    if problem:
        raise RunNotResumable(problem)
    if doc.status == "finished":
        raise RunNotResumable(f"run {doc.run_id} is finished; there is nothing to resume")
    if doc.status == "failed" and _nothing_left(doc):
        raise RunNotResumable(
            f"run {doc.run_id} failed: {doc.no_best_reason or doc.error}. Every context has "
            "ended and been judged, so there is nothing to resume: start a new run"
        )


def _nothing_left(doc: RunDoc) -> bool:
    done = all(c.status == "finished" and c.judged for c in doc.contexts)
    return bool(doc.contexts) and done and not (_open_ended(doc.strategy) and not doc.stopped_launching)


def _open_ended(strategy: str) -> bool:
    try:
        return strategies.get(strategy).open_ended
    except strategies.UnknownStrategy:
        return False


def reconcile_record(run_dir: Path) -> None:
    """Correct run.json from the transcripts before the budget is rebuilt from it (see glia.record.reconcile)."""
    changes = reconcile_run(run_dir)
    if changes:
        log.warning("run.reconciled", run_id=RunDoc.read(run_dir).run_id, changes=changes)


def restore_previous_sessions(state: SessionState) -> None:
    """Reload what earlier sessions decided: context outcomes and trusted evaluations."""
    restored: list[TrustedVerdict] = []
    for entry in RunDoc.parse(state.record.snapshot()).contexts:
        if entry.outcome and entry.status == "finished":
            state.outcomes[entry.context] = ContextOutcome.from_dict(dict(entry.outcome))
        elif entry.status != "pending":
            log.info("context.resumable", context=entry.context, status=entry.status)
        for item in entry.trusted:
            restored.append(load_evaluation(state.run_dir / str(item.file)))
    state.trusted.restore(restored)
