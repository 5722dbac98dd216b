"""Running a Glia run: contexts under a strategy (SCG, MCG-Seq, MCG-Par-N), one shared budget, trusted
re-evaluation of what each context produced, the best design on disk, and resume after a stop.

`prepare_run` creates the run folder; `execute_run` does the work; `resume_run` continues a stopped or
crashed run from its folder. The heavy collaborators (context runner, evaluator, model providers, container
cleanup) are parameters, so tests drive the orchestration with fakes and the CLI passes nothing.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia.budget import Budget, ContextBudget
from glia.orchestrator.best import relative_improvement, write_best
from glia.orchestrator.config import RunConfig, default_run_id
from glia.orchestrator.interrupts import InterruptGuard
from glia.orchestrator.outcome import ContextOutcome
from glia.orchestrator.records import (
    add_timeline,
    context_entry,
    initial_record,
    now_iso,
    pending_context,
    set_context,
)
from glia.orchestrator.trusted import Candidate, TrustedJudge, load_evaluation
from glia.run_store import (
    BEST_DIR,
    EVALUATIONS_DIR,
    TRANSCRIPT_FILE,
    RunRecord,
    context_dir,
    last_context_end,
    load_run,
    save_run,
    write_json_atomic,
)
from glia.task import Task, load_task
from glia.workspace.base import Limits

log = structlog.get_logger()

Progress = Callable[[dict[str, Any]], None]
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_POLL_S = 0.2
CONTAINER_CLEANUP_S = 20.0
CONTAINER_LIFETIME_MARGIN_S = 600.0  # a context ends at the time limit; its container a little later


class RunExists(FileExistsError):
    """A run with this id already has a folder; runs are never overwritten."""


class RunNotResumable(RuntimeError):
    """The run cannot be executed or resumed in its current state (the message says why)."""


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
    data = load_run(run_dir)
    started = [c["context"] for c in data.get("contexts", []) if c.get("status") != "pending"]
    if data.get("status") != "running" or started:
        raise RunNotResumable(
            f"run {data.get('run_id')} has already been started (status {data.get('status')}); "
            "use resume_run / `glia resume` to continue it"
        )
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
    repositories, budget usage carries over, then evaluation and selection happen as usual."""
    data = load_run(run_dir)
    if data.get("status") == "finished":
        raise RunNotResumable(f"run {data.get('run_id')} is finished; there is nothing to resume")
    return _drive(Path(run_dir), True, context_runner, evaluator_factory, provider_factory, progress,
                  container_cleanup)  # fmt: skip


def task_for(config: RunConfig) -> Task:
    """The task as this run evaluates it (with the run's seed override applied)."""
    task = load_task(config.task_path)
    if config.seeds:
        task = task.with_overrides(seeds=list(config.seeds))
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
        provider_factory=provider_factory or _default_provider_factory(),
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
            run.remove_containers()
    return run.result()


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
        self._best_lock = threading.Lock()  # contexts of MCG-Par finish concurrently
        self._first_providers: tuple[Any, Any] | None = None

    # -- session ----------------------------------------------------------------------------------

    def execute(self, resuming: bool) -> None:
        self.record.update(lambda d: self._open_session(d, resuming))
        self._emit(event="run_started", resumed=resuming, strategy=self.config.label)
        self._first_providers = self._make_providers()  # a missing API key fails here, before any cost
        self._judge = TrustedJudge(
            self._evaluator_factory(**self._evaluator_arguments()), self.task, self.run_dir
        )
        self._measure_baselines()
        if resuming:
            self._restore_previous_session()
        if self.config.strategy == "mcg-seq":
            self._run_sequential()
        else:
            self._run_parallel()
        self.finish()

    def finish(self) -> None:
        """Choose and write the best design from what was evaluated, then close run.json."""
        if self._judge is not None:
            self._refresh_best()
        status = "interrupted" if self.stop.is_set() else "finished"
        self.record.update(lambda d: self._close_session(d, status))
        self._emit(event="run_ended", status=status, best=self.record.snapshot().get("best"))
        log.info("run.ended", run_id=self.run_id, status=status)

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

    def _run_parallel(self) -> None:
        """SCG and MCG-Par-N: every context at once (SCG has one), sharing the budget."""
        indices = [c["context"] for c in self.record.snapshot()["contexts"]]
        if len(indices) == 1:
            self._advance_context(indices[0])
            return
        errors: list[BaseException] = []

        def advance(index: int) -> None:
            try:
                self._advance_context(index)
            except BaseException as exc:  # handed to the main thread, which fails the run with it
                errors.append(exc)

        threads = [
            threading.Thread(target=advance, args=(k,), name=f"glia-ctx-{k}", daemon=True) for k in indices
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # short joins keep the main thread free to take Ctrl-C
                thread.join(_POLL_S)
        if errors:
            raise errors[0]

    def _run_sequential(self) -> None:
        """MCG-Seq: one context after another until the target is met, the budget ends or the cap."""
        for index in [c["context"] for c in self.record.snapshot()["contexts"]]:
            self._advance_context(index)
        while True:
            reason = self._reason_to_stop_launching()
            if reason is not None:
                log.info("run.no_more_contexts", reason=reason)
                self.record.update(lambda d, r=reason: d.__setitem__("stopped_launching", r))
                return
            index = len(self.record.snapshot()["contexts"]) + 1
            self.record.update(lambda d, k=index: d["contexts"].append(pending_context(k)))
            self._advance_context(index)

    def _reason_to_stop_launching(self) -> str | None:
        if self.stop.is_set():
            return "interrupted"
        exhausted = self.budget.exhausted()
        if exhausted is not None:
            return exhausted
        if self._target_met():
            return "target_met"
        if len(self.record.snapshot()["contexts"]) >= self.config.max_contexts_seq:
            return "max_contexts"
        return None

    def _target_met(self) -> bool:
        best = self._judge.best() if self._judge else None
        if best is None:
            return False
        gain = relative_improvement(
            best.evaluation.score, self._reference_score(), self.task.metric.direction
        )
        return gain is not None and gain >= self._target_improvement()

    # -- one context ------------------------------------------------------------------------------

    def _advance_context(self, index: int) -> None:
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
        self.record.update(lambda d: set_context(d, index, status="running", started=now_iso()))
        self._emit(event="context_started", context=index, resumed=resume)
        log.info("context.started", context=index, resumed=resume)
        history = list(self._context_entry(index).get("run_totals") or [])
        view = self.budget.for_context(index, on_simulation=self._on_simulation, history=history)
        try:
            researcher, supervisor = self._providers_for(index)
            spec = self._context_spec(index, researcher, supervisor)
            outcome = ContextOutcome.from_result(
                index, self._context_runner(spec, view, self.stop, resume=resume)
            )
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
                "simulations": view.run_total_at(snap.sim_index) if snap.sim_index else None,
                "context": outcome.index,
                "kind": "claimed",
                "score": snap.claimed_score,
                "sha": snap.sha,
            }
            for snap in outcome.snapshots
            if snap.claimed_score is not None and snap.valid
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
                "simulations": where(c),
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
            set_context(
                data,
                outcome.index,
                judged=True,
                trusted=[c.summary(self.run_dir) for c in candidates],
                best_trusted=best_here.evaluation.score if best_here else None,
                evaluation_problems=problems,
            )
            add_timeline(data, points)

        self.record.update(change)
        for candidate in candidates:
            self._emit(event="evaluation", context=candidate.context, label=candidate.label,
                       valid=candidate.evaluation.valid, score=candidate.evaluation.score)  # fmt: skip
        self._refresh_best()

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
        folder = self.run_dir / EVALUATIONS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        summary = {}
        for name, evaluation in evaluations.items():
            write_json_atomic(folder / f"{name}.json", evaluation.to_dict())
            summary[name] = {
                "score": evaluation.score,
                "valid": evaluation.valid,
                "reason": evaluation.reason,
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
        if best is None or best is self._best_written:
            return
        outcome = self._outcomes.get(best.context)
        write_best(
            self.run_dir,
            self.task,
            best,
            self._baseline_scores,
            outcome.finish_summary if outcome else None,
            outcome.end_reason if outcome else None,
        )
        self._best_written = best
        summary = {
            "context": best.context,
            "label": best.label,
            "sha": best.sha,
            "score": best.evaluation.score,
            "reference_baseline": self.task.evaluation.reference_baseline,
            "improvement_over_reference": relative_improvement(
                best.evaluation.score, self._reference_score(), self.task.metric.direction
            ),
            "dir": BEST_DIR,
        }
        self.record.update(lambda d: d.__setitem__("best", summary))
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
                ended = last_context_end(_transcript(self.run_dir, index))
                log.info("context.resumable", context=index, transcript_end=ended and ended.get("reason"))
            for item in entry.get("trusted") or []:
                restored.append(load_evaluation(self.run_dir / item["file"]))
        self._judge.restore(restored)
        self._best_written = None

    # -- helpers ----------------------------------------------------------------------------------

    def _make_providers(self) -> tuple[Any, Any]:
        from glia.llm import compatible_base_url

        models = (self.config.researcher_model, self.config.supervisor_model)
        researcher, supervisor = (
            self._provider_factory(model, base_url=compatible_base_url(model, self.config.base_url))
            for model in models
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
            backend=self.config.backend,
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
            "backend": self.config.backend,
            "image": self.config.image,
            "cache_dir": self.config.workspaces_root / ".cache",
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
        data.setdefault("sessions", []).append({"started": now_iso(), "resumed": resuming})

    def _close_session(self, data: dict[str, Any], status: str) -> None:
        data["status"] = status
        data["ended"] = now_iso()
        data["usage"] = self._usage()
        data["budget_exhausted"] = self.budget.exhausted()
        notes = [note for note in data.get("notes", []) if note not in self.budget.notes()]
        data["notes"] = notes + self.budget.notes()
        data.pop("no_best_reason", None)
        if data.get("best") is None:
            failed = [
                f"ctx-{c['context']}: {c.get('end_reason')}" + (f" ({c['error']})" if c.get("error") else "")
                for c in data.get("contexts", [])
                if c.get("status") != "pending"
            ]
            data["no_best_reason"] = (
                "no context produced a design that passed trusted evaluation" + (": " + "; ".join(failed))
                if failed
                else "no context ran"
            )

    def _emit(self, **event: Any) -> None:
        if self._progress is None:
            return
        try:
            self._progress(event)
        except Exception:  # a broken progress view must not stop research
            log.exception("progress.callback_failed", progress_event=event.get("event"))


def _transcript(run_dir: Path, index: int) -> Path:
    return context_dir(run_dir, index) / TRANSCRIPT_FILE


# ------------------------------------------------------- the real collaborators (imported when used)


def _default_context_runner() -> Callable[..., Any]:
    from glia.context import run_context

    return run_context


def _default_evaluator_factory() -> Callable[..., Any]:
    from glia.evaluation import Evaluator

    return Evaluator


def _default_provider_factory() -> Callable[..., Any]:
    from glia.llm import make_provider

    return make_provider


def _default_container_cleanup() -> Callable[[str], Any]:
    from glia.workspace import cleanup_containers

    return cleanup_containers


def _install_workspace_cleanup() -> None:
    """Close open workspaces at interpreter exit (our own handler owns the signals during the run)."""
    if threading.current_thread() is threading.main_thread():
        from glia.workspace import install_signal_cleanup

        install_signal_cleanup()
