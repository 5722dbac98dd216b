"""Running a Glia run: contexts under a strategy (SCG, MCG-Seq, MCG-Par-N), one shared budget, trusted
re-evaluation of what each context produced, the best design on disk, and resume after a stop.

`prepare_run` creates the run folder; `execute_run` does the work; `resume_run` continues a stopped or
crashed run from its folder. One process writes a run at a time (`glia.record.lock`); a resume first
corrects run.json from the durable record (`glia.record.reconcile`). A run ends `finished` when some
context produced a design that passed trusted evaluation, `failed` (with each context's reason) when
none did, `interrupted` when stopped. The heavy collaborators (context runner, evaluator, model
providers, container cleanup) are parameters, so tests drive the orchestration with fakes and the CLI
passes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia import strategies
from glia.budget import Budget, ContextBudget
from glia.errors import GliaUsageError
from glia.orchestrator.best import relative_improvement, write_best
from glia.orchestrator.config import RunConfig, default_run_id
from glia.orchestrator.interrupts import InterruptGuard
from glia.orchestrator.live import LiveJudge
from glia.orchestrator.outcome import ContextOutcome, as_outcome
from glia.orchestrator.trusted import Candidate, TrustedJudge, load_evaluation
from glia.record.lock import RunLock, RunLocked
from glia.record.reconcile import reconcile
from glia.record.run import (
    add_timeline,
    context_entry,
    initial_record,
    now_iso,
    pending_context,
    resume_problem,
    set_context,
)
from glia.record.transcript import TRANSCRIPT_FILE
from glia.run_store import (
    BEST_DIR,
    EVALUATIONS_DIR,
    RunRecord,
    context_dir,
    load_run,
    save_run,
    write_json_atomic,
)
from glia.task import Task, load_task
from glia.workspace.base import Limits

log = structlog.get_logger()

Progress = Callable[[dict[str, Any]], None]
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CONTAINER_CLEANUP_S = 20.0
CONTAINER_LIFETIME_MARGIN_S = 600.0  # a context ends at the time limit; its container a little later


class RunExists(FileExistsError):
    """A run with this id already has a folder; runs are never overwritten."""


class RunNotResumable(RuntimeError):
    """The run cannot be executed or resumed in its current state (the message says why)."""


class RunInUse(RunNotResumable):
    """Another live process is writing the run (it holds the run's lock)."""


@dataclass
class RunResult:
    """What a run ended with; run.json in `run_dir` has the full story."""

    run_dir: Path
    run_id: str
    status: str
    strategy_label: str
    best: dict[str, Any] | None
    contexts: list[dict[str, Any]]
    notes: list[str]


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
    save_run(run_dir, initial_record(config, task))
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
        _check_startable(run_dir, resuming)
        if resuming:
            _reconcile(run_dir)
        return _drive_locked(run_dir, resuming, context_runner, evaluator_factory, provider_factory,
                             progress, container_cleanup)  # fmt: skip
    finally:
        lock.release()


def _check_startable(run_dir: Path, resuming: bool) -> None:
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
    open_ended = data.get("strategy") == "mcg-seq" and not data.get("stopped_launching")
    return bool(contexts) and done and not open_ended


def _reconcile(run_dir: Path) -> None:
    """Correct run.json from the transcripts before the budget is rebuilt from it (see glia.record.reconcile)."""
    data = load_run(run_dir)
    changes = reconcile(run_dir, data)
    if changes:
        save_run(run_dir, data)
        log.warning("run.reconciled", run_id=data.get("run_id"), changes=changes)


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
    task = task_for(config)
    budget = Budget(config.budgets, used=data.get("usage") if resuming else None)
    run = _Run(
        run_dir=run_dir,
        record=record,
        config=config,
        task=task,
        budget=budget,
        context_runner=context_runner or _default_context_runner(),
        evaluator_factory=evaluator_factory or _default_evaluator_factory(),
        provider_factory=provider_factory or _default_provider_factory(config),
        progress=progress,
        container_cleanup=container_cleanup or _default_container_cleanup(),
    )
    _install_workspace_cleanup()
    with InterruptGuard(run.stop, run.emergency_cleanup):
        try:
            run.execute(resuming)
        except KeyboardInterrupt:
            run.stop.set()
            run.finish()
        except BaseException as exc:
            run.fail(exc)
            raise
        finally:
            run.close_live_judge()
            run.close_evaluator()
            run.remove_containers()
    return run.result()


def _check_faithful(task: Task, evaluations: dict[str, Any], evaluator: Any) -> None:
    """A problem folder whose initial program scores differently isolated stops the run on setup."""
    from glia.evaluation import Evaluator
    from glia.problems import is_program_task
    from glia.problems.build import REFERENCE
    from glia.problems.faithful import check_initial_program

    if not (is_program_task(task) and isinstance(evaluator, Evaluator) and evaluator.backend == "docker"):
        return
    verdict = check_initial_program(task, evaluations.get(REFERENCE), evaluator)
    if not verdict.faithful:
        raise GliaUsageError(f"glia solve stopped: {verdict.reason}")


class _Run:
    """One execution session of a run (a resume is a new session over the same folder)."""

    def __init__(
        self,
        *,
        run_dir: Path,
        record: RunRecord,
        config: RunConfig,
        task: Task,
        budget: Budget,
        context_runner: Callable[..., Any],
        evaluator_factory: Callable[..., Any],
        provider_factory: Callable[..., Any],
        progress: Progress | None,
        container_cleanup: Callable[[str], Any],
    ) -> None:
        self.run_dir = run_dir
        self.record = record
        self.config = config
        self.run_id = str(config.run_id)
        self.task = task
        self.budget = budget
        self.stop = threading.Event()
        self._context_runner = context_runner
        self._evaluator_factory = evaluator_factory
        self._provider_factory = provider_factory
        self._progress = progress
        self._container_cleanup = container_cleanup
        self._judge: TrustedJudge | None = None
        self._baseline_scores: dict[str, float | None] = {}
        self._outcomes: dict[int, ContextOutcome] = {}
        self._best_written: Candidate | None = None
        self._best_has_account = False  # the written best/ has its context's outcome (finish summary)
        self._best_lock = threading.Lock()  # contexts of MCG-Par finish concurrently
        self._first_providers: tuple[Any, Any] | None = None
        self._live: LiveJudge | None = None

    # -- session ----------------------------------------------------------------------------------

    def execute(self, resuming: bool) -> None:
        self.record.update(lambda d: self._open_session(d, resuming))
        self._join_cluster()
        self._emit(event="run_started", resumed=resuming, strategy=self.config.label)
        self._first_providers = self._make_providers()  # a missing API key fails here, before any cost
        self._judge = TrustedJudge(
            self._evaluator_factory(**self._evaluator_arguments()), self.task, self.run_dir
        )
        self._measure_baselines()
        if resuming:
            self._restore_previous_session()
        strategy = strategies.get(self.config.strategy)
        if strategy.live_judging:
            self._start_live_judge()
        strategy.run(self)
        if self._live is not None and not self.stop.is_set():
            self._live.drain()  # the last improvements join the curve before the choice is made
        self.finish()

    def _join_cluster(self) -> None:
        """With a cluster, contexts' sandboxes run on its nodes; run.json says on which (see glia.cluster)."""
        from glia.cluster.connect import CLUSTER_ENV

        self.config.cluster = os.environ.get(CLUSTER_ENV) or self.config.cluster  # --cluster, e.g. on resume
        if not self.config.cluster:
            return
        from glia.cluster import PLACEMENT, connect

        connect(self.config.cluster)

        def placed(context_id: str, where: dict[str, Any]) -> None:
            if not context_id.startswith("ctx-") or not context_id[4:].isdigit():
                return
            index = int(context_id[4:])
            self.record.update(lambda d: set_context(d, index, node=dict(where)))
            self._emit(event="context_placed", context=index, **where)

        PLACEMENT.listen(self.run_id, placed)

    def finish(self) -> None:
        """Choose and write the best design from what was evaluated, then close run.json: finished
        when a design passed trusted evaluation, failed (each context's reason) when none did."""
        self.close_live_judge()
        if self._judge is not None:
            self._refresh_best()
        if self.stop.is_set():
            status = "interrupted"
        else:
            status = "finished" if self.record.snapshot().get("best") is not None else "failed"
        self.record.update(lambda d: self._close_session(d, status))
        self._emit(event="run_ended", status=status, best=self.record.snapshot().get("best"))
        log.info("run.ended", run_id=self.run_id, status=status)

    def close_live_judge(self) -> None:
        """Stop the live judge (an evaluation under way finishes first)."""
        if self._live is not None:
            self._live.close()

    def fail(self, exc: BaseException) -> None:
        log.exception("run.failed", run_id=self.run_id)
        message = f"{type(exc).__name__}: {exc}"

        def mark(data: dict[str, Any]) -> None:
            self._close_session(data, "failed")
            data["error"] = message

        self.record.update(mark)

    def emergency_cleanup(self) -> None:
        """Second Ctrl-C: close what is open, remove the run's containers, mark run.json, all at once."""
        from glia.workspace import registry

        registry.close_all()
        self.remove_containers()
        self.record.try_update(lambda d: self._close_session(d, "interrupted"), timeout_s=2.0)

    def close_evaluator(self) -> None:
        """Release the evaluator's sandboxes (kept between evaluations during the session)."""
        close = getattr(self._judge.evaluator, "close", None) if self._judge is not None else None
        if close is not None:
            try:
                close()
            except Exception:  # cleanup problems are logged; the backstop removes what is left
                log.exception("run.evaluator_close_failed", run_id=self.run_id)

    def remove_containers(self) -> None:
        """Remove the run's containers, and check again until none is left.

        A context closing its own workspace at the same moment leaves a container whose removal is
        under way; if this process exits before the engine is done, the removal can be abandoned. So
        repeat until a pass finds nothing (bounded by CONTAINER_CLEANUP_S).
        """
        if self.config.backend != "docker":
            return
        deadline = time.monotonic() + CONTAINER_CLEANUP_S
        while True:
            try:
                found = self._container_cleanup(self.run_id)
            except Exception:  # cleanup problems are logged; the run's own outcome matters more
                log.exception("run.container_cleanup_failed", run_id=self.run_id)
                return
            if not found or time.monotonic() >= deadline:
                return
            time.sleep(0.5)

    def result(self) -> RunResult:
        data = self.record.snapshot()
        return RunResult(
            run_dir=self.run_dir,
            run_id=self.run_id,
            status=data["status"],
            strategy_label=data["strategy_label"],
            best=data.get("best"),
            contexts=data.get("contexts", []),
            notes=data.get("notes", []),
        )

    # -- strategies -------------------------------------------------------------------------------

    def context_indices(self) -> list[int]:
        return [c["context"] for c in self.record.snapshot()["contexts"]]

    def launch_context(self) -> int:
        index = len(self.record.snapshot()["contexts"]) + 1
        self.record.update(lambda d: d["contexts"].append(pending_context(index)))
        return index

    def stop_launching(self, reason: str) -> None:
        log.info("run.no_more_contexts", reason=reason)
        self.record.update(lambda d: d.__setitem__("stopped_launching", reason))

    def budget_exhausted(self) -> str | None:
        return self.budget.exhausted()

    def run_blackbox(self) -> None:
        """Sample / Loop / OpenEvolve: one search process recorded as context 1 (see glia.blackbox)."""
        from glia.blackbox import MethodHost, run_method

        assert self._judge is not None
        researcher, _ = self._providers_for(1)
        host = MethodHost(run_dir=self.run_dir, run_id=self.run_id, strategy=self.config.strategy,
                          settings=self.config.blackbox, backend=self.config.backend, image=self.config.image,
                          task=self.task, budget=self.budget, record=self.record, stop=self.stop,
                          judge=self._judge, provider=researcher, baselines=dict(self._baseline_scores),
                          limits=self._workspace_limits(), emit=self._emit, on_simulation=self._on_simulation,
                          simulation_limit=self.config.budgets.simulations)  # fmt: skip
        self._outcomes[1] = run_method(host)

    def target_met(self) -> bool:
        best = self._judge.best() if self._judge else None
        if best is None:
            return False
        gain = relative_improvement(best.evaluation.score, self._reference_score(), self.task.metric)
        return gain is not None and gain >= self._target_improvement()

    # -- one context ------------------------------------------------------------------------------

    def advance_context(self, index: int) -> None:
        """Bring context `index` to the end: run (or continue) it if unfinished, then judge its designs."""
        entry = self._context_entry(index)
        outcome = self._outcomes.get(index)
        if outcome is None or outcome.interrupted:
            if self.stop.is_set():
                return
            outcome = self._run_context(index, resume=_transcript(self.run_dir, index).exists())
        if not entry.get("judged") and not outcome.interrupted and not self.stop.is_set():
            self._judge_context(outcome)

    def _run_context(self, index: int, resume: bool) -> ContextOutcome:
        self.record.update(
            lambda d: set_context(d, index, status="running", started=now_iso(), end_reason=None, error=None)
        )
        self._emit(event="context_started", context=index, resumed=resume)
        log.info("context.started", context=index, resumed=resume)
        if self._live is not None:
            self._live.follow(index)
        history = list(self._context_entry(index).get("run_totals") or [])
        view = self.budget.for_context(index, on_simulation=self._on_simulation, history=history)
        try:
            researcher, supervisor = self._providers_for(index)
            spec = self._context_spec(index, researcher, supervisor)
            outcome = as_outcome(index, self._context_runner(spec, _SavingBudget(view, self._save_usage), self.stop,
                                                               resume=resume))  # fmt: skip
        except Exception as exc:  # a crashed context ends alone; the others carry on
            log.exception("context.crashed", context=index)
            outcome = ContextOutcome.crashed(index, exc)
        self._outcomes[index] = outcome
        self._record_context_end(outcome, view)
        return outcome

    def _record_context_end(self, outcome: ContextOutcome, view: ContextBudget) -> None:
        status = "interrupted" if outcome.interrupted else "finished"
        claimed_points = [
            {
                "simulations": snap.run_total
                or (view.run_total_at(snap.sim_index) if snap.sim_index else None),
                "context": outcome.index,
                "kind": "claimed",
                "score": snap.claimed_score,
                "sha": snap.sha,
            }
            for snap in outcome.snapshots
            if snap.claimed_score is not None and snap.valid and snap.kind == "claim"
        ]

        def change(data: dict[str, Any]) -> None:
            set_context(
                data,
                outcome.index,
                status=status,
                ended=now_iso(),
                end_reason=outcome.end_reason,
                error=outcome.error,
                steps=outcome.steps,
                simulations=outcome.simulations,
                cost_usd=outcome.cost_usd,
                tokens=outcome.tokens,
                best_claimed=outcome.best_claimed.claimed_score if outcome.best_claimed else None,
                best_claimed_sha=outcome.best_claimed.sha if outcome.best_claimed else None,
                final_snapshot=outcome.final_sha,
                outcome=outcome.to_dict(),
            )
            add_timeline(data, claimed_points)
            data["usage"] = self._usage()

        self.record.update(change)
        log.info(
            "context.ended",
            context=outcome.index,
            reason=outcome.end_reason,
            simulations=outcome.simulations,
            cost_usd=outcome.cost_usd,
            error=outcome.error,
        )
        self._emit(event="context_ended", context=outcome.index, end_reason=outcome.end_reason,
                   error=outcome.error)  # fmt: skip

    def _judge_context(self, outcome: ContextOutcome) -> None:
        assert self._judge is not None
        if self._live is not None:
            self._live.settle(outcome.index)  # its improvements first: the curve keeps their labels
        try:
            candidates, problems = self._judge.judge(outcome)
        except Exception as exc:  # e.g. a broken context repository: this context has no trusted design
            log.exception("evaluation.failed", context=outcome.index)
            candidates, problems = [], [f"ctx{outcome.index}: {type(exc).__name__}: {exc}"]
        best_here = self._judge.best_of(outcome.index)
        history = self._context_entry(outcome.index).get("run_totals") or []

        def where(candidate: Candidate) -> int | None:
            """The run's simulation count when the design existed (a final design: after the last)."""
            index = candidate.sim_index
            if index is None:
                return history[-1] if history else None
            return history[index - 1] if 0 < index <= len(history) else None

        fresh = [c for c in candidates if not (c.duplicate_of or "").startswith(f"ctx{c.context}-")]
        points = [
            {
                "simulations": c.run_total if c.run_total is not None else where(c),
                "context": c.context,
                "kind": "trusted",
                "score": c.evaluation.score,
                "valid": c.evaluation.valid,
                "label": c.label,
                "sha": c.sha,
            }
            for c in fresh  # a context's two labels for the same design make one point
        ]

        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, outcome.index)
            set_context(
                data,
                outcome.index,
                judged=True,
                trusted=_merge_trusted(entry.get("trusted"), [c.summary(self.run_dir) for c in candidates]),
                best_trusted=best_here.evaluation.score if best_here else None,
                evaluation_problems=_merge_problems(entry.get("evaluation_problems"), problems),
            )
            add_timeline(data, points)

        self.record.update(change)
        for candidate in candidates:
            self._emit(event="evaluation", context=candidate.context, label=candidate.label,
                       valid=candidate.evaluation.valid, score=candidate.evaluation.score)  # fmt: skip
        self._refresh_best()

    # -- the live trusted curve -------------------------------------------------------------------

    def _start_live_judge(self) -> None:
        assert self._judge is not None
        state = self.record.snapshot().get("live_judging") or {}
        self._live = LiveJudge(
            self._judge,
            self.run_dir,
            self.task.metric,
            limit=self.config.live_evaluations,
            used=int(state.get("used") or 0),
            on_verdict=self._on_live_verdict,
            on_problem=self._on_live_problem,
        )
        self.record.update(lambda d: d.__setitem__("live_judging", {"limit": self._live.limit,
                                                                     "used": self._live.used}))  # fmt: skip
        self._live.start()

    def _on_live_verdict(self, candidate: Candidate) -> None:
        """A design that improved its context's best claim has its trusted verdict: a curve point."""
        assert self._judge is not None and self._live is not None
        best_here = self._judge.best_of(candidate.context)
        point = {
            "simulations": candidate.run_total,
            "context": candidate.context,
            "kind": "trusted",
            "score": candidate.evaluation.score,
            "valid": candidate.evaluation.valid,
            "label": candidate.label,
            "sha": candidate.sha,
        }
        used = self._live.used

        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, candidate.context)
            entry["trusted"] = _merge_trusted(entry.get("trusted"), [candidate.summary(self.run_dir)])
            entry["best_trusted"] = best_here.evaluation.score if best_here else None
            data["live_judging"] = {"limit": self.config.live_evaluations, "used": used}
            if candidate.duplicate_of is None:
                add_timeline(data, [point])

        self.record.update(change)
        self._emit(event="evaluation", context=candidate.context, label=candidate.label,
                   valid=candidate.evaluation.valid, score=candidate.evaluation.score, live=True)  # fmt: skip
        self._refresh_best()

    def _on_live_problem(self, context: int, problem: str) -> None:
        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, context)
            entry["evaluation_problems"] = _merge_problems(entry.get("evaluation_problems"), [problem])

        self.record.update(change)

    def _save_usage(self) -> None:
        """run.json's usage after a model call, so that it never lags the money spent by much."""
        self.record.update(lambda d: d.__setitem__("usage", self._usage()))

    def _on_simulation(self, index: int, run_total: int) -> None:
        def change(data: dict[str, Any]) -> None:
            entry = context_entry(data, index)
            entry.setdefault("run_totals", []).append(run_total)
            entry["simulations"] = len(entry["run_totals"])
            data["usage"] = self._usage()

        self.record.update(change)
        self._emit(event="simulation", context=index, simulations_total=run_total)

    # -- baselines, best, resume ------------------------------------------------------------------

    def _measure_baselines(self) -> None:
        recorded = self.record.snapshot().get("baselines") or {}
        if recorded:
            self._baseline_scores = {name: item.get("score") for name, item in recorded.items()}
            return
        assert self._judge is not None
        log.info("baselines.start", routers=list(self.task.evaluation.baselines))
        evaluations = self._judge.evaluator.baselines()
        _check_faithful(self.task, evaluations, self._judge.evaluator)
        folder = self.run_dir / EVALUATIONS_DIR
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
        self._baseline_scores = {name: item["score"] for name, item in summary.items()}
        self.record.update(lambda d: d.__setitem__("baselines", summary))
        log.info("baselines.done", scores=self._baseline_scores)
        self._emit(event="baselines", scores=self._baseline_scores)

    def _refresh_best(self) -> None:
        with self._best_lock:
            self._write_best_if_changed()

    def _write_best_if_changed(self) -> None:
        assert self._judge is not None
        best = self._judge.best()
        outcome = self._outcomes.get(best.context) if best is not None else None
        # written again when its context's account arrives (a design judged live, before its context ended)
        if best is None or (best is self._best_written and (outcome is None or self._best_has_account)):
            return
        write_best(
            self.run_dir,
            self.task,
            best,
            self._baseline_scores,
            outcome.finish_summary if outcome else None,
            outcome.end_reason if outcome else None,
        )
        changed = best is not self._best_written
        self._best_written = best
        self._best_has_account = outcome is not None
        summary = {
            "context": best.context,
            "label": best.label,
            "sha": best.sha,
            "score": best.evaluation.score,
            "reference_baseline": self.task.evaluation.reference_baseline,
            "improvement_over_reference": relative_improvement(
                best.evaluation.score, self._reference_score(), self.task.metric
            ),
            "dir": BEST_DIR,
        }
        self.record.update(lambda d: d.__setitem__("best", summary))
        if changed:
            log.info("selection.best", **{k: v for k, v in summary.items() if k != "dir"})
            self._emit(event="best", **summary)

    def _restore_previous_session(self) -> None:
        """Reload what earlier sessions decided: context outcomes and trusted evaluations."""
        assert self._judge is not None
        restored: list[Candidate] = []
        for entry in self.record.snapshot()["contexts"]:
            index = entry["context"]
            if entry.get("outcome") and entry.get("status") == "finished":
                self._outcomes[index] = ContextOutcome.from_dict(entry["outcome"])
            elif entry.get("status") != "pending":
                log.info("context.resumable", context=index, status=entry.get("status"))
            for item in entry.get("trusted") or []:
                restored.append(load_evaluation(self.run_dir / item["file"]))
        self._judge.restore(restored)
        self._best_written = None

    # -- helpers ----------------------------------------------------------------------------------

    def _make_providers(self) -> tuple[Any, Any]:
        from glia.llm import compatible_base_url

        models = {"researcher": self.config.researcher_model, "supervisor": self.config.supervisor_model}
        researcher, supervisor = (
            self._provider_factory(
                model,
                base_url=compatible_base_url(model, self.config.base_url),
                **({"agent": agent} if _accepts_agent(self._provider_factory) else {}),
            )
            for agent, model in models.items()
        )
        return researcher, supervisor

    def _providers_for(self, index: int) -> tuple[Any, Any]:
        """Fresh provider objects per context (no client shared between threads), the first reused."""
        if self._first_providers is not None:
            first, self._first_providers = self._first_providers, None
            return first
        return self._make_providers()

    def _context_spec(self, index: int, researcher: Any, supervisor: Any) -> Any:
        from glia.context import ContextSpec

        return ContextSpec(
            run_id=self.run_id,
            index=index,
            ctx_dir=context_dir(self.run_dir, index),
            task=self.task,
            researcher=researcher,
            supervisor=supervisor,
            backend="ray" if self.config.cluster else self.config.backend,
            image=self.config.image,
            baselines={k: v for k, v in self._baseline_scores.items() if v is not None} or None,
            max_steps=self.config.budgets.steps,
            supervisor_settings=self.task.supervisor,
            strategy=self.config.label,
            limits=self._workspace_limits(),
        )

    def _workspace_limits(self) -> Limits:
        """Default limits, with the container's self-destruct timer set to the run's remaining time.

        The margin lets a context end cleanly at the time limit before its container disappears.
        """
        seconds_left = self.budget.remaining()["seconds"]
        if seconds_left is None:
            return Limits()
        return dataclasses.replace(Limits(), lifetime_s=float(seconds_left) + CONTAINER_LIFETIME_MARGIN_S)

    def _evaluator_arguments(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "work_dir": self.run_dir,  # the evaluator's working folders go under evaluations/
            "backend": _evaluation_backend(self.config.backend),
            "image": self.config.image,
            "cache_dir": self.config.workspaces_root / ".cache",
            "secrets_dir": self.config.workspaces_root / ".secrets",  # the machine's secret workloads
            "reuse_sandboxes": True,  # restarted between evaluations; closed when the session ends
        }

    def _reference_score(self) -> float | None:
        return self._baseline_scores.get(self.task.evaluation.reference_baseline)

    def _target_improvement(self) -> float:
        if self.config.target_improvement is not None:
            return self.config.target_improvement
        return self.task.defaults.target_improvement

    def _context_entry(self, index: int) -> dict[str, Any]:
        return context_entry(self.record.snapshot(), index)

    def _usage(self) -> dict[str, Any]:
        usage = self.budget.usage()
        usage["minutes"] = round(usage["wall_time_s"] / 60.0, 3)
        return usage

    def _open_session(self, data: dict[str, Any], resuming: bool) -> None:
        data["status"] = "running"
        data["ended"] = None
        data["error"] = None
        data.setdefault("sessions", []).append(
            {"started": now_iso(), "resumed": resuming, "pid": os.getpid(), "host": socket.gethostname()}
        )

    def _close_session(self, data: dict[str, Any], status: str) -> None:
        data["status"] = status
        data["ended"] = now_iso()
        data["usage"] = self._usage()
        data["budget_exhausted"] = self.budget.exhausted()
        notes = [note for note in data.get("notes", []) if note not in self.budget.notes()]
        data["notes"] = notes + self.budget.notes()
        data.pop("no_best_reason", None)
        if data.get("best") is None:
            failed = [_why_no_design(c) for c in data.get("contexts", []) if c.get("status") != "pending"]
            data["no_best_reason"] = (
                "no context produced a design that passed trusted evaluation" + (": " + "; ".join(failed))
                if failed
                else "no context ran"
            )
            if status == "failed" and not data.get("error"):
                data["error"] = data["no_best_reason"]

    def _emit(self, **event: Any) -> None:
        if self._progress is None:
            return
        try:
            self._progress(event)
        except Exception:  # a broken progress view must not stop research
            log.exception("progress.callback_failed", progress_event=event.get("event"))


def _transcript(run_dir: Path, index: int) -> Path:
    return context_dir(run_dir, index) / TRANSCRIPT_FILE


def _why_no_design(entry: dict[str, Any]) -> str:
    """One context's part of a failed run's reason: how it ended and what trusted evaluation said."""
    text = f"ctx-{entry['context']}: {entry.get('end_reason') or entry.get('status')}"
    if entry.get("error"):
        text += f" ({entry['error']})"
    rejected = [t for t in entry.get("trusted") or [] if not t.get("valid")]
    if rejected:
        text += "; its design was rejected: " + str(rejected[-1].get("reason") or "no reason given")
    elif entry.get("evaluation_problems"):
        text += "; " + str(entry["evaluation_problems"][0])
    return text


def _merge_trusted(existing: Any, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A context's verdicts: earlier ones (e.g. the live judge's) kept, a label judged again replaced."""
    labels = {item["label"] for item in new}
    kept = [item for item in existing or [] if isinstance(item, dict) and item.get("label") not in labels]
    return [*kept, *new]


def _merge_problems(existing: Any, new: list[str]) -> list[str]:
    return list(dict.fromkeys([*(existing or []), *new]))


class _SavingBudget:
    """A context's budget view that also saves run.json's usage after every model call it pays for, so
    the dollars on disk follow the money even between simulations (recovery corrects the rest)."""

    def __init__(self, view: ContextBudget, save_usage: Callable[[], None]) -> None:
        self._view = view
        self._save_usage = save_usage

    def charge_cost(self, usd: float | None, tokens: int) -> None:
        self._view.charge_cost(usd, tokens)
        try:
            self._save_usage()
        except Exception:  # a failed save must not end the context; the next one catches up
            log.exception("run.usage_save_failed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)


# ------------------------------------------------------- the real collaborators (imported when used)


def _default_context_runner() -> Callable[..., Any]:
    from glia.context import run_context

    return run_context


def _default_evaluator_factory() -> Callable[..., Any]:
    from glia.evaluation import Evaluator

    return Evaluator


def _default_provider_factory(config: RunConfig) -> Callable[..., Any]:
    """The models with each agent's settings as the run recorded them (so a resume changes nothing)."""
    from glia.llm import AgentModelSettings, AgentProviderFactory

    models = {"researcher": config.researcher_model, "supervisor": config.supervisor_model}
    settings = {
        agent: AgentModelSettings.from_mapping(values, f"run.json model_settings.{agent}")
        for agent, values in (config.model_settings or {}).items()
    }
    return AgentProviderFactory(models, settings)


def _evaluation_backend(workspace_backend: str) -> str:
    """Trusted evaluation runs designs only in Docker sandboxes: a run whose Researcher works locally
    (unsafe, opted in) still evaluates in Docker when an engine answers. Without one, baselines built
    into the simulator are scored locally and every design is refused, with that reason, by the evaluator."""
    if workspace_backend == "docker":
        return "docker"
    from glia.workspace.base import DockerUnavailable
    from glia.workspace.engine import docker_client

    try:
        docker_client(timeout_s=10).close()
    except DockerUnavailable:
        return workspace_backend
    return "docker"


def _accepts_agent(factory: Callable[..., Any]) -> bool:
    """Whether a provider factory takes `agent=` (the real one does; simple test doubles may not)."""
    import inspect

    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "agent" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _default_container_cleanup() -> Callable[[str], Any]:
    from glia.workspace import remove_invocation_containers  # only what this process created

    return remove_invocation_containers


def _install_workspace_cleanup() -> None:
    """Close open workspaces at interpreter exit (our own handler owns the signals during the run)."""
    if threading.current_thread() is threading.main_thread():
        from glia.workspace import install_signal_cleanup

        install_signal_cleanup()
