"""run.json, defined once: what the orchestrator writes and how every reader sees it.

Writers build run.json with `create_record` (from `initial_record`) and `pending_context` and change it with `set_context` and
`add_timeline` (under `glia.run_store.RunRecord.update`); readers get a typed `RunDoc` from `RunDoc.read`
(a folder) or `RunDoc.parse` (an object), never keys guessed at. A version-1 run.json (written before this record had a version of its own) is
read for display; resuming it is refused with a clear message (`RunDoc.resume_problem`).

Layout (version 2): run_id, status (running / finished / interrupted / failed), strategy, strategy_label,
config (RunConfig.to_dict), task {name, path, title, design_files, metric (glia.metric.Metric.to_dict)},
started, ended, sessions [{started, resumed, pid, host}], budgets, usage (Budget.usage() + minutes),
baselines {name: BaselineEntry}, reference_baseline, target_improvement, contexts [ContextEntry],
best (BestEntry) or null with no_best_reason, timeline [TimelinePoint], live_judging {limit, used},
budget_exhausted, stopped_launching, notes, recovered [what recovery corrected], error; and a black-box
method's own `blackbox` section, which only glia.blackbox reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glia import strategies
from glia.metric import Metric
from glia.record.events import integer, number, text, text_or_none
from glia.run_store import load_run, save_run

RUN_VERSION = 2
RUN_STATUSES = ("running", "finished", "interrupted", "failed")
UNKNOWN_STATUS = "unknown"  # what a reader sees when run.json records no status
CONTEXT_STATUSES = ("pending", "running", "interrupted", "finished")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -------------------------------------------------------------------------------------- the entries


@dataclass(frozen=True)
class BaselineEntry:
    score: float | None
    valid: bool
    reason: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @classmethod
    def parse(cls, data: Any) -> BaselineEntry:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            score=number(data.get("score")),
            valid=data.get("valid", True) is not False,
            reason=text_or_none(data.get("reason")),
            ci_low=number(data.get("ci_low")),
            ci_high=number(data.get("ci_high")),
        )


@dataclass(frozen=True)
class TrustedEntry:
    """One trusted verdict on one of a context's designs (`evaluations/ctx<k>-<label>.json` has it all)."""

    label: str
    sha: str
    valid: bool
    score: float | None
    reason: str | None = None
    sim_index: int | None = None
    design_hash: str | None = None
    duplicate_of: str | None = None
    file: str | None = None
    feasible: bool = True
    violations: tuple[str, ...] = ()
    ci_low: float | None = None  # the primary workload's 90% interval of the objective
    ci_high: float | None = None
    isolation: str | None = None
    run_total: int | None = None  # the run's simulation count when the design ran (None: at the end)
    live: bool = False  # evaluated while the run went on (a point of the trusted curve)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["violations"] = list(self.violations)
        return data

    @classmethod
    def parse(cls, data: Any) -> TrustedEntry:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            label=text(data.get("label")),
            sha=text(data.get("sha")),
            valid=data.get("valid") is True,
            score=number(data.get("score")),
            reason=text_or_none(data.get("reason")),
            sim_index=integer(data.get("sim_index")),
            design_hash=text_or_none(data.get("design_hash")),
            duplicate_of=text_or_none(data.get("duplicate_of")),
            file=text_or_none(data.get("file")),
            feasible=data.get("feasible", True) is not False,
            violations=tuple(str(v) for v in _list(data.get("violations"))),
            ci_low=number(data.get("ci_low")),
            ci_high=number(data.get("ci_high")),
            isolation=text_or_none(data.get("isolation")),
            run_total=integer(data.get("run_total")),
            live=data.get("live") is True,
        )


@dataclass(frozen=True)
class ContextEntry:
    """A context's line in run.json; every key it will ever have is present from the start."""

    context: int
    name: str
    status: str = "pending"
    end_reason: str | None = None
    error: str | None = None
    started: str | None = None
    ended: str | None = None
    steps: int = 0
    simulations: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    best_claimed: float | None = None
    best_claimed_sha: str | None = None
    best_trusted: float | None = None
    final_snapshot: str | None = None
    judged: bool = False
    trusted: tuple[TrustedEntry, ...] = ()
    evaluation_problems: tuple[str, ...] = ()
    run_totals: tuple[int, ...] = ()
    outcome: Mapping[str, Any] | None = None
    node: Mapping[str, Any] | None = None  # on a cluster: where its sandbox runs (glia.cluster)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["trusted"] = [t.to_dict() for t in self.trusted]
        data["evaluation_problems"] = list(self.evaluation_problems)
        data["run_totals"] = list(self.run_totals)
        return data

    @classmethod
    def parse(cls, data: Any, position: int = 1) -> ContextEntry:
        data = data if isinstance(data, Mapping) else {}
        index = integer(data.get("context")) or integer(data.get("index")) or position
        return cls(
            context=index,
            name=text(data.get("name")) or f"ctx-{index}",
            status=text(data.get("status")) or "pending",
            end_reason=text_or_none(data.get("end_reason")),
            error=text_or_none(data.get("error")),
            started=text_or_none(data.get("started")),
            ended=text_or_none(data.get("ended")),
            steps=integer(data.get("steps")) or 0,
            simulations=integer(data.get("simulations")) or 0,
            cost_usd=number(data.get("cost_usd")) or 0.0,
            tokens=integer(data.get("tokens")) or 0,
            best_claimed=number(data.get("best_claimed")),
            best_claimed_sha=text_or_none(data.get("best_claimed_sha")),
            best_trusted=number(data.get("best_trusted")),
            final_snapshot=text_or_none(data.get("final_snapshot")),
            judged=data.get("judged") is True,
            trusted=tuple(TrustedEntry.parse(t) for t in _list(data.get("trusted"))),
            evaluation_problems=tuple(str(p) for p in _list(data.get("evaluation_problems"))),
            run_totals=tuple(t for t in _list(data.get("run_totals")) if integer(t) is not None),
            outcome=data.get("outcome") if isinstance(data.get("outcome"), Mapping) else None,
            node=data.get("node") if isinstance(data.get("node"), Mapping) else None,
        )


@dataclass(frozen=True)
class BestEntry:
    """The design the run chose (by trusted score only) and where it is."""

    context: int
    label: str
    sha: str
    score: float | None
    reference_baseline: str | None = None
    improvement_over_reference: float | None = None
    dir: str = "best"

    @classmethod
    def parse(cls, data: Any) -> BestEntry | None:
        if not isinstance(data, Mapping) or integer(data.get("context")) is None:
            return None
        return cls(
            context=integer(data.get("context")) or 0,
            label=text(data.get("label")),
            sha=text(data.get("sha")),
            score=number(data.get("score")),
            reference_baseline=text_or_none(data.get("reference_baseline")),
            improvement_over_reference=number(data.get("improvement_over_reference")),
            dir=text(data.get("dir")) or "best",
        )


CLAIMED = "claimed"  # a context's own score for a design
TRUSTED = "trusted"  # the trusted evaluator's verdict on it


@dataclass(frozen=True)
class TimelinePoint:
    """A point of the progress plot: a claim or a trusted verdict against the run's simulations used."""

    simulations: int | None
    context: int
    kind: str  # CLAIMED or TRUSTED
    score: float | None
    sha: str | None = None
    label: str | None = None
    valid: bool = True

    @classmethod
    def parse(cls, data: Any) -> TimelinePoint | None:
        if not isinstance(data, Mapping) or integer(data.get("context")) is None:
            return None
        return cls(
            simulations=integer(data.get("simulations")),
            context=integer(data.get("context")) or 0,
            kind=text(data.get("kind")),
            score=number(data.get("score")),
            sha=text_or_none(data.get("sha")),
            label=text_or_none(data.get("label")),
            valid=data.get("valid", True) is not False,
        )

    def to_dict(self) -> dict[str, Any]:
        """The point as run.json stores it: a claim has no verdict, so no `valid` and no `label`."""
        point: dict[str, Any] = {"simulations": self.simulations, "context": self.context, "kind": self.kind,
                                 "score": self.score}  # fmt: skip
        if self.kind == TRUSTED:
            point.update(valid=self.valid, label=self.label)
        point["sha"] = self.sha
        return point


@dataclass(frozen=True)
class Usage:
    simulations: int = 0
    dollars: float = 0.0
    tokens: int = 0
    wall_time_s: float = 0.0
    cost_known: bool = True
    unpriced_calls: int = 0

    @property
    def minutes(self) -> float:
        return self.wall_time_s / 60.0

    @classmethod
    def parse(cls, data: Any) -> Usage:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            simulations=integer(data.get("simulations")) or 0,
            dollars=number(data.get("dollars")) or 0.0,
            tokens=integer(data.get("tokens")) or 0,
            wall_time_s=number(data.get("wall_time_s")) or 0.0,
            cost_known=data.get("cost_known", True) is not False,
            unpriced_calls=integer(data.get("unpriced_calls")) or 0,
        )


@dataclass(frozen=True)
class RunBudgets:
    """The run's budgets; None where unlimited."""

    simulations: int | None = None
    dollars: float | None = None
    wall_time_s: float | None = None
    steps: int | None = None
    tokens: int | None = None

    @classmethod
    def parse(cls, data: Any) -> RunBudgets:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            simulations=integer(data.get("simulations")),
            dollars=number(data.get("dollars")),
            wall_time_s=number(data.get("wall_time_s")),
            steps=integer(data.get("steps")),
            tokens=integer(data.get("tokens")),
        )


@dataclass(frozen=True)
class RunDoc:
    """run.json as readers see it."""

    version: int
    run_id: str
    status: str
    strategy: str
    strategy_label: str
    config: Mapping[str, Any]
    task_name: str
    task_title: str
    design_files: tuple[str, ...]
    metric: Metric
    started: str | None
    ended: str | None
    sessions: tuple[Mapping[str, Any], ...]
    budgets: RunBudgets
    usage: Usage
    baselines: Mapping[str, BaselineEntry]
    reference_baseline: str
    target_improvement: float | None
    contexts: tuple[ContextEntry, ...]
    best: BestEntry | None
    no_best_reason: str | None
    timeline: tuple[TimelinePoint, ...]
    notes: tuple[str, ...]
    recovered: tuple[str, ...]
    error: str | None
    stopped_launching: str | None = None
    budget_exhausted: str | None = None
    live_judging: Mapping[str, Any] = field(default_factory=dict)
    blackbox: Mapping[str, Any] = field(default_factory=dict)  # a black-box method's own section

    @classmethod
    def read(cls, run_dir: Path) -> RunDoc:
        """The run.json of a run folder, typed: the one reader of run folders. Raises `RunNotFound` (a
        FileNotFoundError) when the folder holds none, ValueError when it is not JSON."""
        data = load_run(run_dir)
        return cls.parse(data if isinstance(data, Mapping) else {}, fallback_id=Path(run_dir).name)

    @classmethod
    def parse(cls, data: Mapping[str, Any], fallback_id: str = "") -> RunDoc:
        """The typed reading of a run.json object (any version; missing keys read as their defaults)."""
        config = data.get("config") if isinstance(data.get("config"), Mapping) else {}
        task = data.get("task") if isinstance(data.get("task"), Mapping) else {}
        metric_data = task.get("metric") if isinstance(task.get("metric"), Mapping) else {}
        try:
            metric = Metric.from_dict(metric_data)
        except ValueError:
            metric = Metric("score", "minimize")
        contexts = [ContextEntry.parse(c, k) for k, c in enumerate(_list(data.get("contexts")), 1)]
        baselines = data.get("baselines") if isinstance(data.get("baselines"), Mapping) else {}
        return cls(
            version=integer(data.get("version")) or 1,
            run_id=text(data.get("run_id")) or fallback_id,
            status=text(data.get("status")) or UNKNOWN_STATUS,
            strategy=text(data.get("strategy")) or text(config.get("strategy")),
            strategy_label=text(data.get("strategy_label")) or text(config.get("strategy_label")) or "?",
            config=config,
            task_name=text(task.get("name")) or text(config.get("task_path")),
            task_title=text(task.get("title")),
            design_files=tuple(str(f) for f in _list(task.get("design_files"))),
            metric=metric,
            started=text_or_none(data.get("started")),
            ended=text_or_none(data.get("ended")),
            sessions=tuple(s for s in _list(data.get("sessions")) if isinstance(s, Mapping)),
            budgets=RunBudgets.parse(data.get("budgets") or config.get("budgets")),
            usage=Usage.parse(data.get("usage")),
            baselines={str(k): BaselineEntry.parse(v) for k, v in baselines.items()},
            reference_baseline=text(data.get("reference_baseline")) or "llq",
            target_improvement=number(data.get("target_improvement")),
            contexts=tuple(contexts),
            best=BestEntry.parse(data.get("best")),
            no_best_reason=text_or_none(data.get("no_best_reason")),
            timeline=tuple(p for t in _list(data.get("timeline")) if (p := TimelinePoint.parse(t))),
            notes=tuple(str(n) for n in _list(data.get("notes")) if n),
            recovered=tuple(str(n) for n in _list(data.get("recovered")) if n),
            error=text_or_none(data.get("error")),
            stopped_launching=text_or_none(data.get("stopped_launching")),
            budget_exhausted=text_or_none(data.get("budget_exhausted")),
            live_judging=data.get("live_judging") if isinstance(data.get("live_judging"), Mapping) else {},
            blackbox=data.get("blackbox") if isinstance(data.get("blackbox"), Mapping) else {},
        )

    def context(self, index: int) -> ContextEntry | None:
        return next((c for c in self.contexts if c.context == index), None)

    def resume_problem(self) -> str | None:
        """Why this run cannot be resumed by this version of Glia, or None."""
        if self.version == RUN_VERSION:
            return None
        if self.version < RUN_VERSION:
            return (
                f"run {self.run_id} was recorded by an older Glia (record version {self.version}, this "
                f"Glia writes {RUN_VERSION}); it can still be read (`glia show`, `glia report`) but not "
                "resumed: start a new run"
            )
        return (
            f"run {self.run_id} was recorded by a newer Glia (record version {self.version}, this Glia "
            f"knows {RUN_VERSION}); resume it with that version"
        )


# ---------------------------------------------------------------------------- building run.json


def create_record(run_dir: Path, config: Any, task: Any) -> None:
    """Write the run.json of a newly prepared run (`initial_record`), atomically."""
    save_run(run_dir, initial_record(config, task))


def initial_record(config: Any, task: Any) -> dict[str, Any]:
    """run.json of a prepared run: everything known before any work (MCG-Seq adds contexts as it goes).

    `config` is a RunConfig, `task` a Task (duck-typed: this module sits below the orchestrator)."""
    count = strategies.get(config.strategy).initial_contexts(config.contexts)
    target = config.target_improvement
    return {
        "version": RUN_VERSION,
        "run_id": config.run_id,
        "status": "running",
        "strategy": config.strategy,
        "strategy_label": config.label,
        "config": config.to_dict(),
        "task": {
            "name": task.name,
            "path": str(Path(task.path).resolve()),
            "title": task.title,
            "design_files": list(task.design_files),
            "metric": task.metric.to_dict(),
        },
        "started": now_iso(),
        "ended": None,
        "sessions": [],
        "budgets": dataclasses.asdict(config.budgets),
        "usage": {**dataclasses.asdict(Usage()), "minutes": 0.0},
        "reference_baseline": task.evaluation.reference_baseline,
        "target_improvement": target if target is not None else task.defaults.target_improvement,
        "baselines": {},
        "contexts": [pending_context(k) for k in range(1, count + 1)],
        "best": None,
        "timeline": [],
        "live_judging": {"limit": getattr(config, "live_evaluations", 0), "used": 0},
        "notes": [],
        "recovered": [],
        "error": None,
    }


def pending_context(index: int) -> dict[str, Any]:
    """The entry of a context that has not started; every key the entry will ever have is present."""
    return ContextEntry(context=index, name=f"ctx-{index}").to_dict()


def context_entry(data: dict[str, Any], index: int) -> dict[str, Any]:
    for entry in data["contexts"]:
        if entry["context"] == index:
            return entry
    raise KeyError(f"run.json has no context {index}")


def set_context(data: dict[str, Any], index: int, **values: Any) -> None:
    context_entry(data, index).update(values)


def add_timeline(data: dict[str, Any], points: list[TimelinePoint]) -> None:
    """Append progress-plot points, skipping ones already there (a resumed context repeats its past)."""
    timeline = data.setdefault("timeline", [])
    seen = {(p["context"], p["kind"], p.get("sha"), p.get("label")) for p in timeline}
    for point in points:
        key = (point.context, point.kind, point.sha, point.label)
        if key not in seen:
            timeline.append(point.to_dict())
            seen.add(key)
    timeline.sort(key=lambda p: (p["simulations"] is None, p["simulations"] or 0))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
