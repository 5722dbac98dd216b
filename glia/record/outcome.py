"""How a context ended and what it produced: one type, written by the context, kept in run.json, read
back on resume and by the orchestrator's judge.

`best_claimed` is a claim (the simulator's own number, as the Researcher's copy reported it); only the
trusted evaluator's verdicts choose a design.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from glia.metric import Metric

INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class SnapshotRef:
    """A design snapshot made when a simulation started: its commit, the simulation, and its claim."""

    sha: str
    sim_index: int | None
    claimed_score: float | None
    valid: bool
    kind: str = "claim"  # claim (a benchmark run under the task's conditions) or experiment
    run_total: int | None = None  # the run's simulation count when it started

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotRef:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class ContextOutcome:
    """How one context ended (or one black-box method's search)."""

    index: int
    end_reason: str
    steps: int = 0
    simulations: int = 0
    cost_usd: float | None = 0.0
    tokens: int = 0
    final_sha: str | None = None
    snapshots: list[SnapshotRef] = field(default_factory=list)
    best_claimed: SnapshotRef | None = None  # the valid claim with the best claimed score
    finish_summary: dict[str, Any] | None = None
    error: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.end_reason == INTERRUPTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextOutcome:
        """Read back `to_dict` (also entries written before snapshots had a kind)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["snapshots"] = [SnapshotRef.from_dict(s) for s in data.get("snapshots") or []]
        best = data.get("best_claimed")
        values["best_claimed"] = SnapshotRef.from_dict(best) if isinstance(best, dict) else None
        return cls(**values)

    @classmethod
    def crashed(cls, index: int, exc: BaseException) -> ContextOutcome:
        """The context's runner raised: the context ends with 'error' and the exception as its reason."""
        return cls(index=index, end_reason="error", error=f"{type(exc).__name__}: {exc}")

    def best_claimed_snapshot(self, metric: Metric) -> SnapshotRef | None:
        """The snapshot the context named as its best, else the valid claim with the best claimed score."""
        if self.best_claimed is not None:
            return self.best_claimed
        claims = (s for s in self.snapshots if s.valid and s.kind == "claim")
        return metric.best(claims, score=lambda s: s.claimed_score)

    def sim_index_of(self, sha: str) -> int | None:
        for snap in self.snapshots:
            if snap.sha == sha:
                return snap.sim_index
        return None


def as_outcome(index: int, result: Any) -> ContextOutcome:
    """The outcome a context runner returned, checked: a runner must return a `ContextOutcome`."""
    if not isinstance(result, ContextOutcome):
        raise TypeError(f"context {index}: the runner returned {type(result).__name__}, not a ContextOutcome")
    if result.index != index:
        result.index = index
    return result
