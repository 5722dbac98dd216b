"""Running a Glia run: contexts under a strategy (SCG, MCG-Seq, MCG-Par-N), one shared budget, trusted
re-evaluation of what each context produced, the best design on disk, and resume after a stop.

`prepare_run` creates the run folder; `execute_run` does the work; `resume_run` continues a stopped or
crashed run from its folder. One process writes a run at a time (`glia.record.lock`); a resume first
corrects run.json from the durable record (`glia.record.reconcile`). A run ends `finished` when some
context produced a design that passed trusted evaluation, `failed` (with each context's reason) when
none did, `interrupted` when stopped. The heavy collaborators (context runner, evaluator, model
providers, container cleanup) are parameters, so tests drive the orchestration with fakes and the CLI
passes nothing.

The session itself is split by job: `session` (open, dispatch to the strategy, close), `contexts` (one
context's lifecycle), `live_curve` (live-judge callbacks), `baselines`, `selection` (the best design),
`resume` (what may start, and what earlier sessions decided), `providers`, `cleanup`, and `run_edits`
(every change to run.json).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from glia.budget import Budget
from glia.orchestrator.cleanup import default_container_cleanup, install_workspace_cleanup
from glia.orchestrator.config import RunConfig, default_run_id
from glia.orchestrator.contexts import CONTAINER_LIFETIME_MARGIN_S
from glia.orchestrator.interrupts import InterruptGuard
from glia.orchestrator.providers import default_provider_factory
from glia.orchestrator.resume import RunNotResumable, check_startable, reconcile_record
from glia.orchestrator.session import RunResult, RunSession
from glia.orchestrator.state import Progress, SessionState
from glia.record.lock import RunLock, RunLocked
from glia.record.run import create_record
from glia.run_store import RunRecord
from glia.task import Task
from glia.task_kinds import load_task

__all__ = [
    "CONTAINER_LIFETIME_MARGIN_S",
    "RunExists",
    "RunInUse",
    "RunNotResumable",
    "RunResult",
    "execute_run",
    "prepare_run",
    "resume_run",
    "task_for",
]

log = structlog.get_logger()

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RunExists(FileExistsError):
    """A run with this id already has a folder; runs are never overwritten."""


class RunInUse(RunNotResumable):
    """Another live process is writing the run (it holds the run's lock)."""


# ------------------------------------------------------------------------------------------ public API


def prepare_run(config: RunConfig) -> Path:
    """Create `workspaces/<run-id>/` with run.json (status 'running') and return the folder."""
    task = task_for(config)
    run_id = config.run_id or default_run_id(task.name, config.strategy, config.contexts)
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r} must be letters, digits, '.', '_' or '-'")
    run_dir = config.workspaces_root / run_id
    try:
        run_dir.mkdir(parents=True, exist_ok=False)
    except FileExistsError:
        raise RunExists(
            f"run '{run_id}' already exists at {run_dir}; choose another --run-id, or continue it with "
            f"`glia resume {run_id}`"
        ) from None
    # absolute paths, so that `glia resume` works from any folder
    config = dataclasses.replace(
        config,
        run_id=run_id,
        task_path=config.task_path.resolve(),
        workspaces_root=config.workspaces_root.resolve(),
    )
    create_record(run_dir, config, task)
    log.info("run.prepared", run_id=run_id, strategy=config.label, run_dir=str(run_dir))
    return run_dir


def execute_run(
    run_dir: Path,
    *,
    context_runner: Callable[..., Any] | None = None,
    evaluator_factory: Callable[..., Any] | None = None,
    provider_factory: Callable[..., Any] | None = None,
    progress: Progress | None = None,
    container_cleanup: Callable[[str], Any] | None = None,
) -> RunResult:
    """Run a prepared run to its end (or to an interrupt) and return how it ended.

    `progress` receives small dicts keyed by "event": run_started, baselines, context_started,
    simulation, context_ended, evaluation, best, run_ended. Ctrl-C / SIGTERM (main thread only) stops
    the contexts at their next step; a second one exits at once after removing the run's containers.
    """
    return _drive(Path(run_dir), False, context_runner, evaluator_factory, provider_factory, progress,
                  container_cleanup)  # fmt: skip


def resume_run(
    run_dir: Path,
    *,
    context_runner: Callable[..., Any] | None = None,
    evaluator_factory: Callable[..., Any] | None = None,
    provider_factory: Callable[..., Any] | None = None,
    progress: Progress | None = None,
    container_cleanup: Callable[[str], Any] | None = None,
) -> RunResult:
    """Continue an interrupted (or crashed) run: unfinished contexts go on from their transcripts and
    repositories, budget usage carries over (corrected from the transcripts first), then evaluation and
    selection happen as usual. Refused while another process holds the run."""
    return _drive(Path(run_dir), True, context_runner, evaluator_factory, provider_factory, progress,
                  container_cleanup)  # fmt: skip


def task_for(config: RunConfig) -> Task:
    """The task as this run evaluates it (with the run's seed override applied)."""
    task = load_task(config.task_path)
    if config.seeds:
        task = task.with_overrides(seeds=config.seeds)
    return task


# ------------------------------------------------------------------------------------------- the run


def _drive(
    run_dir: Path,
    resuming: bool,
    context_runner: Callable[..., Any] | None,
    evaluator_factory: Callable[..., Any] | None,
    provider_factory: Callable[..., Any] | None,
    progress: Progress | None,
    container_cleanup: Callable[[str], Any] | None,
) -> RunResult:
    lock = RunLock(run_dir, command="glia resume" if resuming else "glia solve")
    try:
        lock.acquire()
    except RunLocked as exc:
        pid = exc.holder.get("pid", "PID")
        raise RunInUse(
            f"{exc}; refusing to write it from a second process. Wait for it to end, or stop it (Ctrl-C in "
            f"its terminal, or `kill {pid}`), then `glia resume {run_dir.name}`"
        ) from None
    try:
        check_startable(run_dir, resuming)
        if resuming:
            reconcile_record(run_dir)
        return _drive_locked(run_dir, resuming, context_runner, evaluator_factory, provider_factory,
                             progress, container_cleanup)  # fmt: skip
    finally:
        lock.release()


def _drive_locked(
    run_dir: Path,
    resuming: bool,
    context_runner: Callable[..., Any] | None,
    evaluator_factory: Callable[..., Any] | None,
    provider_factory: Callable[..., Any] | None,
    progress: Progress | None,
    container_cleanup: Callable[[str], Any] | None,
) -> RunResult:
    record = RunRecord.load(run_dir)
    data = record.snapshot()
    config = RunConfig.from_dict(data["config"])
    state = SessionState(
        run_dir=run_dir,
        record=record,
        config=config,
        task=task_for(config),
        budget=Budget(config.budgets, used=data.get("usage") if resuming else None),
        progress=progress,
    )
    session = RunSession(
        state,
        context_runner=context_runner or _default_context_runner(),
        evaluator_factory=evaluator_factory or _default_evaluator_factory(),
        provider_factory=provider_factory or default_provider_factory(config),
        container_cleanup=container_cleanup or default_container_cleanup(),
    )
    install_workspace_cleanup()
    with InterruptGuard(session.stop, session.emergency_cleanup):
        try:
            session.execute(resuming)
        except KeyboardInterrupt:
            session.stop.set()
            session.finish()
        except BaseException as exc:
            session.fail(exc)
            raise
        finally:
            session.close()
    return session.result()


# ------------------------------------------------------- the real collaborators (imported when used)


def _default_context_runner() -> Callable[..., Any]:
    from glia.context import run_context

    return run_context


def _default_evaluator_factory() -> Callable[..., Any]:
    from glia.evaluation import Evaluator

    return Evaluator
