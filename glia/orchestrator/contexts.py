"""The lifecycle of one context in a session: run (or continue) it, record how it ended, then judge
its designs in the trusted evaluator and put them on the run's curve."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import structlog

from glia.budget import ContextBudget
from glia.evaluation.trusted import TrustedVerdict
from glia.orchestrator.live_curve import LiveCurve
from glia.orchestrator.providers import Providers
from glia.orchestrator.state import SessionState
from glia.record.outcome import ContextOutcome, as_outcome
from glia.record.run import CLAIMED, TRUSTED, TimelinePoint
from glia.record.transcript import TRANSCRIPT_FILE
from glia.run_store import context_dir
from glia.workspace.base import Limits

log = structlog.get_logger()

CONTAINER_LIFETIME_MARGIN_S = 600.0  # a context ends at the time limit; its container a little later


class ContextLifecycle:
    """Brings contexts to their end; `on_judged` runs after each verdict that may change the best."""

    def __init__(
        self,
        state: SessionState,
        runner: Callable[..., Any],
        providers: Providers,
        live: LiveCurve,
        on_judged: Callable[[], None],
    ) -> None:
        self._state = state
        self._runner = runner
        self._providers = providers
        self._live = live
        self._on_judged = on_judged

    def advance(self, index: int) -> None:
        """Bring context `index` to the end: run (or continue) it if unfinished, then judge its designs."""
        state = self._state
        entry = state.context_entry(index)
        outcome = state.outcomes.get(index)
        if outcome is None or outcome.interrupted:
            if state.stop.is_set():
                return
            transcript = context_dir(state.run_dir, index) / TRANSCRIPT_FILE
            outcome = self._run(index, resume=transcript.exists())
        if not entry.get("judged") and not outcome.interrupted and not state.stop.is_set():
            self._judge(outcome)

    def on_simulation(self, index: int, run_total: int) -> None:
        """A simulation of context `index` ran; `run_total` is the run's count after it."""
        self._state.edits.simulation(index, run_total)
        self._state.emit(event="simulation", context=index, simulations_total=run_total)

    def workspace_limits(self) -> Limits:
        """Default limits, with the container's self-destruct timer set to the run's remaining time.

        The margin lets a context end cleanly at the time limit before its container disappears.
        """
        seconds_left = self._state.budget.remaining()["seconds"]
        if seconds_left is None:
            return Limits()
        return dataclasses.replace(Limits(), lifetime_s=float(seconds_left) + CONTAINER_LIFETIME_MARGIN_S)

    def _run(self, index: int, resume: bool) -> ContextOutcome:
        state = self._state
        state.edits.context_started(index)
        state.emit(event="context_started", context=index, resumed=resume)
        log.info("context.started", context=index, resumed=resume)
        self._live.follow(index)
        history = list(state.context_entry(index).get("run_totals") or [])
        view = state.budget.for_context(index, on_simulation=self.on_simulation, history=history)
        try:
            researcher, supervisor = self._providers.for_context(index)
            spec = self._spec(index, researcher, supervisor)
            budget = SavingBudget(view, state.edits.save_usage)
            outcome = as_outcome(index, self._runner(spec, budget, state.stop, resume=resume))
        except Exception as exc:  # a crashed context ends alone; the others carry on
            log.exception("context.crashed", context=index)
            outcome = ContextOutcome.crashed(index, exc)
        state.outcomes[index] = outcome
        self._record_end(outcome, view)
        return outcome

    def _record_end(self, outcome: ContextOutcome, view: ContextBudget) -> None:
        claimed = [
            TimelinePoint(
                snap.run_total or (view.run_total_at(snap.sim_index) if snap.sim_index else None),
                outcome.index,
                CLAIMED,
                snap.claimed_score,
                sha=snap.sha,
            )  # fmt: skip
            for snap in outcome.snapshots
            if snap.claimed_score is not None and snap.valid and snap.kind == "claim"
        ]
        self._state.edits.context_ended(outcome, claimed)
        log.info(
            "context.ended",
            context=outcome.index,
            reason=outcome.end_reason,
            simulations=outcome.simulations,
            cost_usd=outcome.cost_usd,
            error=outcome.error,
        )
        self._state.emit(event="context_ended", context=outcome.index, end_reason=outcome.end_reason,
                         error=outcome.error)  # fmt: skip

    def _judge(self, outcome: ContextOutcome) -> None:
        state = self._state
        judge = state.trusted
        self._live.settle(outcome.index)  # its improvements first: the curve keeps their labels
        try:
            verdicts, problems = judge.judge(outcome)
        except Exception as exc:  # e.g. a broken context repository: this context has no trusted design
            log.exception("evaluation.failed", context=outcome.index)
            verdicts, problems = [], [f"ctx{outcome.index}: {type(exc).__name__}: {exc}"]
        best_here = judge.best_of(outcome.index)
        history = state.context_entry(outcome.index).get("run_totals") or []
        fresh = [c for c in verdicts if not (c.duplicate_of or "").startswith(f"ctx{c.context}-")]
        points = [  # a context's two labels for the same design make one point
            TimelinePoint(
                c.run_total if c.run_total is not None else _simulations_at(c, history),
                c.context,
                TRUSTED,
                c.evaluation.score,
                sha=c.sha,
                label=c.label,
                valid=c.evaluation.valid,
            )  # fmt: skip
            for c in fresh
        ]
        state.edits.context_judged(
            outcome.index,
            [c.summary(state.run_dir) for c in verdicts],
            best_here.evaluation.score if best_here else None,
            problems,
            points,
        )
        for verdict in verdicts:
            state.emit(event="evaluation", context=verdict.context, label=verdict.label,
                       valid=verdict.evaluation.valid, score=verdict.evaluation.score)  # fmt: skip
        self._on_judged()

    def _spec(self, index: int, researcher: Any, supervisor: Any) -> Any:
        from glia.context import ContextSpec

        state = self._state
        return ContextSpec(
            run_id=state.run_id,
            index=index,
            ctx_dir=context_dir(state.run_dir, index),
            task=state.task,
            researcher=researcher,
            supervisor=supervisor,
            backend="ray" if state.config.cluster else state.config.backend,
            image=state.config.image,
            baselines={k: v for k, v in state.baseline_scores.items() if v is not None} or None,
            max_steps=state.config.budgets.steps,
            supervisor_settings=state.task.supervisor,
            strategy=state.config.label,
            limits=self.workspace_limits(),
        )


def _simulations_at(verdict: TrustedVerdict, history: list[int]) -> int | None:
    """The run's simulation count when the design existed (a final design: after the last)."""
    index = verdict.sim_index
    if index is None:
        return history[-1] if history else None
    return history[index - 1] if 0 < index <= len(history) else None


class SavingBudget:
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
