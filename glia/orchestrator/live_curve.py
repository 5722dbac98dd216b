"""The live trusted curve of a session: the live judge started over the run's record, and what its
verdicts and problems change in run.json (the judging itself is `glia.orchestrator.live`)."""

from __future__ import annotations

from collections.abc import Callable

from glia.evaluation.trusted import TrustedVerdict
from glia.orchestrator.live import LiveJudge
from glia.orchestrator.state import SessionState
from glia.record.run import TRUSTED, TimelinePoint


class LiveCurve:
    """Live judging for one session; every method is a no-op until `start` (black-box runs never start it)."""

    def __init__(self, state: SessionState, on_best_changed: Callable[[], None]) -> None:
        self._state = state
        self._on_best_changed = on_best_changed
        self._live: LiveJudge | None = None

    def start(self) -> None:
        state = self._state
        recorded = state.record.snapshot().get("live_judging") or {}
        self._live = LiveJudge(
            state.trusted,
            state.run_dir,
            state.task.metric,
            limit=state.config.live_evaluations,
            used=int(recorded.get("used") or 0),
            on_verdict=self._on_verdict,
            on_problem=self._on_problem,
        )
        state.edits.set_live_judging(self._live.limit, self._live.used)
        self._live.start()

    def follow(self, index: int) -> None:
        if self._live is not None:
            self._live.follow(index)

    def settle(self, index: int) -> None:
        """Judge a context's waiting improvements first: the curve keeps their labels."""
        if self._live is not None:
            self._live.settle(index)

    def drain(self) -> None:
        """The last improvements join the curve before the choice is made."""
        if self._live is not None:
            self._live.drain()

    def close(self) -> None:
        """Stop the live judge (an evaluation under way finishes first)."""
        if self._live is not None:
            self._live.close()

    def _on_verdict(self, verdict: TrustedVerdict) -> None:
        """A design that improved its context's best claim has its trusted verdict: a curve point."""
        state = self._state
        assert self._live is not None
        best_here = state.trusted.best_of(verdict.context)
        point = TimelinePoint(verdict.run_total, verdict.context, TRUSTED, verdict.evaluation.score,
                              sha=verdict.sha, label=verdict.label, valid=verdict.evaluation.valid)  # fmt: skip
        state.edits.live_verdict(
            verdict.context,
            verdict.summary(state.run_dir),
            best_here.evaluation.score if best_here else None,
            (state.config.live_evaluations, self._live.used),
            point if verdict.duplicate_of is None else None,
        )
        state.emit(event="evaluation", context=verdict.context, label=verdict.label,
                   valid=verdict.evaluation.valid, score=verdict.evaluation.score, live=True)  # fmt: skip
        self._on_best_changed()

    def _on_problem(self, context: int, problem: str) -> None:
        self._state.edits.evaluation_problem(context, problem)
