"""The comparison table: per budget and method, the trusted score across repeats and what it cost.

Columns: runs, trusted score mean with its 90% bootstrap interval across repeats (runs without a trusted
design are counted apart, never as zero), the best run, simulations used of the budget, dollars per run,
designs produced and how many were invalid, and how many runs stopped before spending their budget.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from glia.compare.plan import ComparePlan
from glia.compare.results import RunOutcome
from glia.evaluation.stats import bootstrap_mean_ci
from glia.metric import Metric
from glia.safe_text import md_inline


@dataclass
class MethodSummary:
    budget: int
    key: str
    label: str
    runs: int = 0
    finished: int = 0
    scores: list[float] = field(default_factory=list)
    mean: float | None = None
    ci: tuple[float, float] | None = None
    best: float | None = None
    simulations: float = 0.0
    dollars: float = 0.0
    dollars_total: float = 0.0
    cost_known: bool = True
    designs: float = 0.0
    invalid_designs: float = 0.0
    no_trusted: int = 0
    stopped_early: int = 0
    end_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci"] = list(self.ci) if self.ci else None
        return data


def summarize(plan: ComparePlan, outcomes: list[RunOutcome], metric: Metric) -> list[MethodSummary]:
    """One summary per (budget, method), in the plan's order."""
    summaries = []
    for budget in plan.budgets:
        for spec in plan.methods:
            mine = [o for o in outcomes if o.entry.budget == budget and o.entry.method == spec.key]
            summaries.append(_summary(budget, spec.key, spec.label, mine, metric))
    return summaries


def _summary(budget: int, key: str, label: str, runs: list[RunOutcome], metric: Metric) -> MethodSummary:
    summary = MethodSummary(budget, key, label, runs=len(runs))
    if not runs:
        return summary
    summary.finished = sum(1 for r in runs if r.done)
    summary.scores = [r.trusted for r in runs if r.trusted is not None]
    summary.no_trusted = len(runs) - len(summary.scores)
    if summary.scores:
        summary.mean = sum(summary.scores) / len(summary.scores)
        summary.ci = bootstrap_mean_ci(summary.scores) if len(summary.scores) >= 2 else None
        best = summary.scores[0]
        for score in summary.scores[1:]:
            if metric.better(score, best):
                best = score
        summary.best = best
    summary.simulations = _mean([r.simulations for r in runs])
    summary.dollars = _mean([r.dollars for r in runs])
    summary.dollars_total = sum(r.dollars for r in runs)
    summary.cost_known = all(r.cost_known for r in runs)
    summary.designs = _mean([r.designs for r in runs])
    summary.invalid_designs = _mean([r.invalid_designs for r in runs])
    summary.stopped_early = sum(1 for r in runs if r.stopped_early)
    summary.end_reasons = dict(Counter(reason for r in runs for reason in r.end_reasons))
    return summary


def markdown_table(summaries: list[MethodSummary], metric: Metric, budget: int) -> str:
    unit = f" ({metric.unit})" if metric.unit else ""
    direction = metric.better_word
    lines = [
        f"| method | runs | trusted {md_inline(metric.name + unit, 80)}, mean ({direction} is better) | 90% CI | best run "
        f"| simulations used (of {budget}) | dollars per run | designs per run | invalid designs per run | notes |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in (s for s in summaries if s.budget == budget):
        if not s.runs:
            lines.append(f"| {s.label} | 0 | — | — | — | — | — | — | — | not run yet |")
            continue
        ci = f"{s.ci[0]:.3f} – {s.ci[1]:.3f}" if s.ci else "—"
        dollars = f"${s.dollars:.2f}" + ("" if s.cost_known else " (some calls unpriced)")
        lines.append(
            f"| {s.label} | {s.runs} | {_num(s.mean)} | {ci} | {_num(s.best)} | {s.simulations:.1f} | {dollars} "
            f"| {s.designs:.1f} | {s.invalid_designs:.1f} | {notes(s)} |"
        )
    return "\n".join(lines) + "\n"


def notes(summary: MethodSummary) -> str:
    parts = []
    if summary.no_trusted:
        parts.append(f"{summary.no_trusted} run(s) without a trusted design")
    if summary.stopped_early:
        parts.append(f"{summary.stopped_early} run(s) stopped before spending the budget")
    unfinished = summary.runs - summary.finished
    if unfinished:
        parts.append(f"{unfinished} run(s) not ended yet")
    reasons = ", ".join(f"{reason} ×{count}" for reason, count in sorted(summary.end_reasons.items()))
    if reasons:
        parts.append(f"ended: {reasons}")
    return md_inline("; ".join(parts), 600) or "—"


def csv_text(summaries: list[MethodSummary]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["budget", "method", "runs", "finished", "trusted_mean", "ci_low", "ci_high", "best",
                     "simulations_mean", "dollars_mean", "dollars_total", "designs_mean", "invalid_designs_mean",
                     "runs_without_trusted_design", "runs_stopped_early"])  # fmt: skip
    for s in summaries:
        writer.writerow([s.budget, s.label, s.runs, s.finished, _raw(s.mean), _raw(s.ci[0] if s.ci else None),
                         _raw(s.ci[1] if s.ci else None), _raw(s.best), f"{s.simulations:.3f}", f"{s.dollars:.6f}",
                         f"{s.dollars_total:.6f}", f"{s.designs:.3f}", f"{s.invalid_designs:.3f}", s.no_trusted,
                         s.stopped_early])  # fmt: skip
    return buffer.getvalue()


def _mean(values: list[float | int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _num(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _raw(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
