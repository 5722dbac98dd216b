"""One execution session of a run (a resume is a new session over the same folder): it opens the
session in run.json, makes the judge and the providers, measures the baselines, hands the contexts to
the run's strategy (it is the strategy's `StrategyHost`), and closes the session with its status."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from glia import strategies
from glia.evaluation.trusted import TrustedJudge
from glia.orchestrator.baselines import measure_baselines
from glia.orchestrator.cleanup import close_evaluator, remove_containers
from glia.orchestrator.contexts import ContextLifecycle
from glia.orchestrator.evaluator_setup import evaluator_arguments
from glia.orchestrator.live_curve import LiveCurve
from glia.orchestrator.providers import Providers
from glia.orchestrator.resume import restore_previous_sessions
from glia.orchestrator.selection import BestKeeper
from glia.orchestrator.state import SessionState
from glia.record.run import RunDoc

log = structlog.get_logger()


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


class RunSession:
    """Drives one session; the collaborators (context runner, evaluator, providers, container cleanup)
    come from the caller, so tests drive it with fakes."""

    def __init__(
        self,
        state: SessionState,
        *,
        context_runner: Callable[..., Any],
        evaluator_factory: Callable[..., Any],
        provider_factory: Callable[..., Any],
        container_cleanup: Callable[[str], Any],
    ) -> None:
        self.state = state
        self.stop = state.stop
        self.config = state.config
        self._evaluator_factory = evaluator_factory
        self._container_cleanup = container_cleanup
        self._providers = Providers(state.config, provider_factory)
        self._best = BestKeeper(state)
        self._live = LiveCurve(state, self._best.refresh)
        self._contexts = ContextLifecycle(
            state, context_runner, self._providers, self._live, self._best.refresh
        )

    def execute(self, resuming: bool) -> None:
        state = self.state
        state.edits.open_session(resuming)
        self._join_cluster()
        state.emit(event="run_started", resumed=resuming, strategy=self.config.label)
        self._providers.prepare()  # a missing API key fails here, before any cost
        state.judge = TrustedJudge(
            self._evaluator_factory(**evaluator_arguments(state)), state.task, state.run_dir
        )
        measure_baselines(state)
        if resuming:
            restore_previous_sessions(state)
            self._best.forget()
        strategy = strategies.get(self.config.strategy)
        if strategy.live_judging:
            self._live.start()
        strategy.run(self)
        if strategy.live_judging and not self.stop.is_set():
            self._live.drain()
        self.finish()

    def finish(self) -> None:
        """Choose and write the best design from what was evaluated, then close run.json: finished
        when a design passed trusted evaluation, failed (each context's reason) when none did."""
        state = self.state
        self._live.close()
        if state.judge is not None:
            self._best.refresh()
        if self.stop.is_set():
            status = "interrupted"
        else:
            status = "finished" if state.record.snapshot().get("best") is not None else "failed"
        state.edits.close_session(status)
        state.emit(event="run_ended", status=status, best=state.record.snapshot().get("best"))
        log.info("run.ended", run_id=state.run_id, status=status)

    def fail(self, exc: BaseException) -> None:
        log.exception("run.failed", run_id=self.state.run_id)
        self.state.edits.close_session("failed", error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Release what the session holds: the live judge, the evaluator's sandboxes, the run's containers."""
        self._live.close()
        if self.state.judge is not None:
            close_evaluator(self.state.judge.evaluator, self.state.run_id)
        self.remove_containers()

    def emergency_cleanup(self) -> None:
        """Second Ctrl-C: close what is open, remove the run's containers, mark run.json, all at once."""
        from glia.workspace import registry

        registry.close_all()
        self.remove_containers()
        self.state.edits.try_close_session("interrupted", timeout_s=2.0)

    def remove_containers(self) -> None:
        if self.config.backend == "docker":
            remove_containers(self._container_cleanup, self.state.run_id)

    def result(self) -> RunResult:
        data = self.state.record.snapshot()
        return RunResult(
            run_dir=self.state.run_dir,
            run_id=self.state.run_id,
            status=data["status"],
            strategy_label=data["strategy_label"],
            best=data.get("best"),
            contexts=data.get("contexts", []),
            notes=data.get("notes", []),
        )

    # -- the strategy's host (glia.strategies.StrategyHost) ---------------------------------------

    def context_indices(self) -> list[int]:
        return [c.context for c in RunDoc.parse(self.state.record.snapshot()).contexts]

    def advance_context(self, index: int) -> None:
        self._contexts.advance(index)

    def launch_context(self) -> int:
        return self.state.edits.launch_context()

    def stop_launching(self, reason: str) -> None:
        log.info("run.no_more_contexts", reason=reason)
        self.state.edits.stop_launching(reason)

    def budget_exhausted(self) -> str | None:
        return self.state.budget.exhausted()

    def target_met(self) -> bool:
        return self._best.target_met()

    def run_blackbox(self) -> None:
        """Sample / Loop / OpenEvolve / EoH / FunSearch: one search process recorded as context 1."""
        from glia.blackbox import MethodHost, run_method

        state = self.state
        researcher, _ = self._providers.for_context(1)
        host = MethodHost(run_dir=state.run_dir, run_id=state.run_id, strategy=self.config.strategy,
                          settings=self.config.blackbox, backend=self.config.backend, image=self.config.image,
                          task=state.task, budget=state.budget, record=state.record, stop=self.stop,
                          judge=state.trusted, provider=researcher, baselines=dict(state.baseline_scores),
                          limits=self._contexts.workspace_limits(), emit=state.emit,
                          on_simulation=self._contexts.on_simulation,
                          simulation_limit=self.config.budgets.simulations)  # fmt: skip
        state.outcomes[1] = run_method(host)

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
            self.state.edits.place_context(index, where)
            self.state.emit(event="context_placed", context=index, **where)

        PLACEMENT.listen(self.state.run_id, placed)
