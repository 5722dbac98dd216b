"""The comparison's numbers, read back from real run folders (run.json, transcripts, candidate records).

Per run: its trusted score (the run's best design as Glia's evaluator scored it), simulations and
dollars used, designs produced and how many were invalid, how it ended, its best-trusted-so-far curve
against simulations used (run.json's timeline), and for `sample` the claimed score of every design.
Nothing here is computed from claims except the `sample` distribution, which is labelled so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from glia.blackbox.store import VALID, CandidateStore
from glia.compare.plan import ComparePlan, Entry
from glia.metric import Metric
from glia.record import events as ev
from glia.record.run import RunDoc
from glia.record.transcript import TRANSCRIPT_FILE, read_events
from glia.run_store import RunNotFound, context_dir

BUDGET_REASONS = {"simulation_budget", "dollar_budget", "time_limit", "token_budget"}


@dataclass
class RunOutcome:
    """One run of the comparison, as its folder tells it."""

    entry: Entry
    label: str
    status: str
    done: bool = False  # ended for good: finished, or failed without an error (no trusted design)
    trusted: float | None = None
    simulations: int = 0
    limit: int = 0
    dollars: float = 0.0
    cost_known: bool = True
    tokens: int = 0
    designs: int = 0
    invalid_designs: int = 0
    end_reasons: list[str] = field(default_factory=list)
    curve: list[tuple[int, float]] = field(default_factory=list)  # (simulations used, best trusted so far)
    sample_claims: list[float] = field(default_factory=list)
    sample_failed: int = 0
    wall_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def stopped_early(self) -> bool:
        """A finished run that ended before spending its simulation budget, by its own decision."""
        spent = any(reason in BUDGET_REASONS for reason in self.end_reasons)
        return self.done and not spent and self.simulations < self.limit


@dataclass
class Baselines:
    scores: dict[str, float]
    reference: str | None


def read_outcome(plan: ComparePlan, entry: Entry) -> RunOutcome | None:
    """The run of `entry`, or None when it was never created."""
    run_dir = plan.workspaces_root / entry.run_id
    try:
        doc = RunDoc.read(run_dir)
    except (RunNotFound, json.JSONDecodeError):
        return None
    spec = plan.method(entry.method)
    usage = doc.usage
    outcome = RunOutcome(
        entry=entry,
        label=spec.label,
        status=doc.status,
        done=doc.status == "finished" or (doc.status == "failed" and not doc.error),
        trusted=doc.best.score if doc.best is not None else None,
        simulations=usage.simulations,
        limit=int(doc.budgets.simulations or entry.budget),
        dollars=usage.dollars,
        cost_known=usage.cost_known,
        tokens=usage.tokens,
        end_reasons=[c.end_reason for c in doc.contexts if c.end_reason],
        curve=running_best(_trusted_points(doc), doc.metric),
        wall_s=usage.wall_time_s,
    )
    if spec.blackbox:
        _read_blackbox(run_dir, doc, outcome, spec.strategy)
    else:
        _read_contexts(run_dir, outcome)
    return outcome


def collect(plan: ComparePlan) -> list[RunOutcome]:
    return [o for entry in plan.entries() if (o := read_outcome(plan, entry)) is not None]


def baselines(plan: ComparePlan) -> Baselines:
    """The trusted baseline scores the runs measured (they share one cache, so one run tells)."""
    for entry in plan.entries():
        try:
            doc = RunDoc.read(plan.workspaces_root / entry.run_id)
        except (RunNotFound, json.JSONDecodeError):
            continue
        scores = {name: item.score for name, item in doc.baselines.items() if item.score is not None}
        if scores:
            return Baselines(scores, doc.reference_baseline)
    return Baselines({}, None)


def running_best(points: list[tuple[int, float]], metric: Metric) -> list[tuple[int, float]]:
    """The steps of the best score so far: one point wherever it improved."""
    best: list[tuple[int, float]] = []
    for x, y in sorted(points):
        if not best or metric.better(y, best[-1][1]):
            best.append((x, y))
    return best


def value_at(curve: list[tuple[int, float]], x: int) -> float | None:
    """The best-so-far value after `x` simulations (None before the first trusted design)."""
    value = None
    for at, y in curve:
        if at <= x:
            value = y
    return value


def _trusted_points(doc: RunDoc) -> list[tuple[int, float]]:
    return [
        (point.simulations, point.score)
        for point in doc.timeline
        if point.kind == "trusted"
        and point.valid
        and point.simulations is not None
        and point.score is not None
    ]


def _read_blackbox(run_dir: Path, doc: RunDoc, outcome: RunOutcome, method: str) -> None:
    counts = doc.blackbox.get("counts") or {}
    outcome.designs = int(counts.get("candidates") or 0)
    outcome.invalid_designs = int(counts.get("invalid_designs") or 0)
    outcome.timings = dict(doc.blackbox.get("timings_total") or {})
    if method == "sample":
        for record in CandidateStore(context_dir(run_dir, 1)).records():
            if record.status == VALID and record.claimed_score is not None:
                outcome.sample_claims.append(record.claimed_score)
            elif record.invalid_design:
                outcome.sample_failed += 1


def _read_contexts(run_dir: Path, outcome: RunOutcome) -> None:
    """Glia's designs: every benchmark run of the design (a claim) a context made; invalid ones counted."""
    for transcript in sorted(run_dir.glob(f"ctx-*/{TRANSCRIPT_FILE}")):
        for raw in read_events(transcript):
            event = ev.parse_event(raw)
            if not isinstance(event, ev.SimulationEnded) or event.kind != ev.CLAIM:
                continue
            outcome.designs += 1
            if not event.valid:
                outcome.invalid_designs += 1
