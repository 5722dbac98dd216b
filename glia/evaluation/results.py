"""What a trusted evaluation produced, in a JSON-able form, and how the best design is chosen."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from glia.evaluation.stats import bootstrap_mean_ci


@dataclass(frozen=True)
class SeedResult:
    """One simulation of the trusted evaluation, as its `summary.json` reported it."""

    seed: int
    mean_e2e: float
    p90_e2e: float
    frac_restarted: float
    mean_scheduling_delay: float
    num_requests: int = 0
    wall_time_s: float = 0.0


@dataclass(frozen=True)
class WorkloadScore:
    """Scores of one workload over its seeds: mean of per-seed means, 90% bootstrap interval of it."""

    name: str
    qps: float
    heldout: bool
    mean: float
    p90: float
    ci_low: float
    ci_high: float
    seeds: tuple[SeedResult, ...]

    @classmethod
    def from_seeds(cls, name: str, qps: float, heldout: bool, seeds: Sequence[SeedResult]) -> WorkloadScore:
        if not seeds:
            raise ValueError(f"workload {name}: no seed results to summarise")
        ordered = tuple(sorted(seeds, key=lambda s: s.seed))
        means = [s.mean_e2e for s in ordered]
        low, high = bootstrap_mean_ci(means)
        return cls(
            name=name,
            qps=qps,
            heldout=heldout,
            mean=sum(means) / len(means),
            p90=sum(s.p90_e2e for s in ordered) / len(ordered),
            ci_low=low,
            ci_high=high,
            seeds=ordered,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadScore:
        seeds = tuple(SeedResult(**row) for row in data["seeds"])
        return cls(**{**data, "seeds": seeds})


@dataclass(frozen=True)
class Evaluation:
    """The trusted verdict on one design or baseline router. `score` is None exactly when invalid."""

    label: str
    valid: bool
    reason: str | None
    score: float | None
    workloads: dict[str, WorkloadScore] = field(default_factory=dict)
    design_sha256: str | None = None  # None for a built-in router
    duration_s: float = 0.0
    router: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["workloads"] = {name: asdict(score) for name, score in self.workloads.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        workloads = {name: WorkloadScore.from_dict(w) for name, w in data.get("workloads", {}).items()}
        return cls(**{**data, "workloads": workloads})

    @classmethod
    def invalid(cls, label: str, reason: str, **details: Any) -> Evaluation:
        return cls(label=label, valid=False, reason=reason, score=None, **details)


def select_best(evaluations: Iterable[Evaluation], direction: str) -> Evaluation | None:
    """The valid evaluation with the best trusted score; ties go to the earliest. Never an invalid one."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    sign = 1.0 if direction == "minimize" else -1.0
    best: Evaluation | None = None
    for candidate in evaluations:
        if not candidate.valid or candidate.score is None:
            continue
        if best is None or sign * candidate.score < sign * best.score:  # type: ignore[operator]
            best = candidate
    return best
