"""What a trusted evaluation produced, in a JSON-able form, and how the best design is chosen.

Values are whatever keys the task's metric names (objective, constraint keys, reported keys), read per
seed from the core's summary and aggregated per workload as a mean with a 90% bootstrap interval.
Feasibility is judged on the primary workload's means; ranking is the metric's (`glia.metric`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from glia.evaluation.stats import bootstrap_mean_ci
from glia.metric import Metric

FORMAT_VERSION = 2


@dataclass(frozen=True)
class SeedResult:
    """One simulation of the trusted evaluation: its seeds and the values the metric needs."""

    seed: int
    values: dict[str, float]
    design_seed: int = 0
    wall_time_s: float = 0.0
    cpu_time_s: float | None = None  # the simulator's CPU seconds (the time limit counts CPU, not wall)
    decision_cpu_ms: float | None = None  # the design's CPU milliseconds per decision (its cost)


@dataclass(frozen=True)
class KeyStats:
    """One value over a workload's seeds: mean and its 90% bootstrap interval."""

    mean: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class WorkloadScore:
    """A workload's results: the objective's mean and interval first, then every key's statistics."""

    name: str
    params: dict[str, Any]
    heldout: bool
    secret: bool
    mean: float  # the objective
    ci_low: float
    ci_high: float
    stats: dict[str, KeyStats]
    violations: tuple[str, ...]
    seeds: tuple[SeedResult, ...]

    @classmethod
    def from_seeds(
        cls,
        name: str,
        params: Mapping[str, Any],
        heldout: bool,
        secret: bool,
        seeds: Sequence[SeedResult],
        metric: Metric,
    ) -> WorkloadScore:
        if not seeds:
            raise ValueError(f"workload {name}: no seed results to summarise")
        stats = {}
        for key in metric.keys:
            series = [s.values[key] for s in seeds if key in s.values]
            if len(series) == len(seeds):
                low, high = bootstrap_mean_ci(series)
                stats[key] = KeyStats(sum(series) / len(series), low, high)
        objective = stats[metric.name]
        means = {key: item.mean for key, item in stats.items()}
        return cls(
            name=name,
            params=dict(params),
            heldout=heldout,
            secret=secret,
            mean=objective.mean,
            ci_low=objective.ci_low,
            ci_high=objective.ci_high,
            stats=stats,
            violations=tuple(metric.violations(means)),
            seeds=tuple(seeds),
        )

    def value(self, key: str) -> float | None:
        item = self.stats.get(key)
        return None if item is None else item.mean

    @property
    def decision_cpu_ms(self) -> float | None:
        """The design's mean CPU milliseconds per decision over the seeds (None where not measured)."""
        return _mean_of(s.decision_cpu_ms for s in self.seeds)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadScore:
        return cls(
            name=data["name"],
            params=dict(data.get("params") or {}),
            heldout=bool(data.get("heldout")),
            secret=bool(data.get("secret")),
            mean=float(data["mean"]),
            ci_low=float(data["ci_low"]),
            ci_high=float(data["ci_high"]),
            stats={key: KeyStats(**item) for key, item in (data.get("stats") or {}).items()},
            violations=tuple(data.get("violations") or ()),
            seeds=tuple(SeedResult(**row) for row in data.get("seeds") or ()),
        )


@dataclass(frozen=True)
class Evaluation:
    """The trusted verdict on one design or baseline. `score` is None exactly when invalid.

    `feasible` is False when a constraint fails on the primary workload (`violations` says which).
    `isolation` says how the design ran: "sandbox" (its own sandbox, talking to the core over the
    channel), "builtin" (a baseline that is part of the pristine simulator), or "none" (the task's
    simulator cannot host a design apart, so the design ran inside the core: weaker, and reported so).
    """

    label: str
    valid: bool
    reason: str | None
    score: float | None
    workloads: dict[str, WorkloadScore] = field(default_factory=dict)
    feasible: bool = True
    violations: tuple[str, ...] = ()
    design: str | None = None  # the name that selected it (a baseline's name, or the design slot's)
    design_sha256: str | None = None  # None for a built-in baseline
    isolation: str = "builtin"
    duration_s: float = 0.0
    simulations: int = 0
    retried: str | None = (
        None  # why the evaluation ran again (the core sandbox was lost: not the design's doing)
    )
    version: int = FORMAT_VERSION

    @property
    def router(self) -> str | None:
        """The selecting name (kept for readers written when every design was a router)."""
        return self.design

    @property
    def primary(self) -> WorkloadScore | None:
        return next(iter(self.workloads.values()), None)

    @property
    def decision_cpu_ms(self) -> float | None:
        """The design's decision cost: mean CPU milliseconds per decision over every simulation run, so
        that a slow design shows as slow beside its score (the limits count CPU time, not wall time)."""
        return _mean_of(s.decision_cpu_ms for w in self.workloads.values() for s in w.seeds)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["workloads"] = {name: asdict(score) for name, score in self.workloads.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"evaluation format {data.get('version')!r} is not this Glia's ({FORMAT_VERSION}); "
                "evaluate the design again"
            )
        workloads = {name: WorkloadScore.from_dict(w) for name, w in (data.get("workloads") or {}).items()}
        fields = {**data, "workloads": workloads, "violations": tuple(data.get("violations") or ())}
        return cls(**fields)

    @classmethod
    def invalid(cls, label: str, reason: str, **details: Any) -> Evaluation:
        return cls(label=label, valid=False, reason=reason, score=None, feasible=False, **details)


def _mean_of(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def select_best(evaluations: Iterable[Evaluation], metric: Metric) -> Evaluation | None:
    """The best valid evaluation: feasible before infeasible, then the better score; earliest on ties."""
    return metric.best(
        (e for e in evaluations if e.valid and e.score is not None),
        score=lambda e: e.score,
        feasible=lambda e: e.feasible,
    )
