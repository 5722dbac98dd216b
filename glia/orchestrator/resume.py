"""Starting a session over an existing run folder: refusing what cannot be started or continued,
correcting run.json from the durable record, and reloading what earlier sessions decided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from glia import strategies
from glia.evaluation.trusted import Candidate, load_evaluation
from glia.orchestrator.state import SessionState
from glia.record.outcome import ContextOutcome
from glia.record.reconcile import reconcile
from glia.record.run import resume_problem
from glia.run_store import load_run, save_run

log = structlog.get_logger()


class RunNotResumable(RuntimeError):
    """The run cannot be executed or resumed in its current state (the message says why)."""


def check_startable(run_dir: Path, resuming: bool) -> None:
    """Refuse to execute a run twice, to resume a finished one or one this Glia cannot continue."""
    data = load_run(run_dir)
    run_id = data.get("run_id")
    if not resuming:
        started = [c["context"] for c in data.get("contexts", []) if c.get("status") != "pending"]
        if data.get("status") != "running" or started or data.get("sessions"):
            raise RunNotResumable(
                f"run {run_id} has already been started (status {data.get('status')}); "
                "use resume_run / `glia resume` to continue it"
            )
        return
    problem = resume_problem(data)
    if problem:
        raise RunNotResumable(problem)
    if data.get("status") == "finished":
        raise RunNotResumable(f"run {run_id} is finished; there is nothing to resume")
    if data.get("status") == "failed" and _nothing_left(data):
        raise RunNotResumable(
            f"run {run_id} failed: {data.get('no_best_reason') or data.get('error')}. Every context has "
            "ended and been judged, so there is nothing to resume: start a new run"
        )


def _nothing_left(data: dict[str, Any]) -> bool:
    contexts = data.get("contexts") or []
    done = all(c.get("status") == "finished" and c.get("judged") for c in contexts)
    return bool(contexts) and done and not (_open_ended(data) and not data.get("stopped_launching"))


def _open_ended(data: dict[str, Any]) -> bool:
    try:
        return strategies.get(str(data.get("strategy"))).open_ended
    except strategies.UnknownStrategy:
        return False


def reconcile_record(run_dir: Path) -> None:
    """Correct run.json from the transcripts before the budget is rebuilt from it (see glia.record.reconcile)."""
    data = load_run(run_dir)
    changes = reconcile(run_dir, data)
    if changes:
        save_run(run_dir, data)
        log.warning("run.reconciled", run_id=data.get("run_id"), changes=changes)


def restore_previous_sessions(state: SessionState) -> None:
    """Reload what earlier sessions decided: context outcomes and trusted evaluations."""
    restored: list[Candidate] = []
    for entry in state.record.snapshot()["contexts"]:
        index = entry["context"]
        if entry.get("outcome") and entry.get("status") == "finished":
            state.outcomes[index] = ContextOutcome.from_dict(entry["outcome"])
        elif entry.get("status") != "pending":
            log.info("context.resumable", context=index, status=entry.get("status"))
        for item in entry.get("trusted") or []:
            restored.append(load_evaluation(state.run_dir / item["file"]))
    state.trusted.restore(restored)
