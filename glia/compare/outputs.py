"""Everything a comparison writes into its folder, from the run folders as they are now.

`table.md` / `table.csv` / `results.json` (the numbers), `fig3-trusted-s<B>.png`, `fig7-progress-s<B>.png`
and `fig2-sample-s<B>.png` (the paper's views) and `report.md`. Safe to call at any time, on a finished,
interrupted or running comparison: it only reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glia.compare.figures import (
    BAR_FILE,
    CURVE_FILE,
    HISTOGRAM_FILE,
    bar_chart,
    progress_curves,
    sample_histogram,
)
from glia.compare.plan import ComparePlan, load_state
from glia.compare.report import render
from glia.compare.results import Baselines, RunOutcome, baselines, collect
from glia.compare.table import MethodSummary, csv_text, markdown_table, summarize
from glia.metric import Metric
from glia.run_store import write_json_atomic
from glia.task import Task
from glia.task_kinds import load_task

REPORT_FILE = "report.md"
TABLE_FILE = "table.md"
CSV_FILE = "table.csv"
RESULTS_FILE = "results.json"


def plan_task(plan: ComparePlan) -> Task:
    task = load_task(plan.task_path)
    return task.with_overrides(seeds=list(plan.seeds)) if plan.seeds else task


def trusted_setup(task: Task) -> str:
    """The trusted evaluation in words: workloads, their parameters and seeds."""
    parts = []
    for workload in task.evaluation.workloads:
        count = workload.count
        seeds = (
            f"{count} secret seed{'s' if count != 1 else ''}"
            if workload.secret
            else f"public seeds {workload.seeds}"
        )
        kind = "held out" if workload.heldout else "scored"
        parts.append(f"`{workload.name}` ({workload.describe() or 'default parameters'}; {seeds}; {kind})")
    isolation = (
        "the design in a sandbox of its own" if task.design.host else "the design inside the core sandbox"
    )
    return f"{isolation}, on workloads " + ", ".join(parts)


def write_outputs(plan: ComparePlan) -> dict[str, Path]:
    folder = plan.folder
    folder.mkdir(parents=True, exist_ok=True)
    task = plan_task(plan)
    metric = task.metric
    state = load_state(folder)
    outcomes = collect(plan)
    summaries = summarize(plan, outcomes, metric)
    measured = baselines(plan)
    figures: dict[str, Path | None] = {}
    for budget in plan.budgets:
        figures[f"bars-{budget}"] = bar_chart(
            summaries, measured, metric, budget, folder / BAR_FILE.format(budget=budget)
        )
        figures[f"curves-{budget}"] = progress_curves(
            plan, outcomes, measured, metric, budget, folder / CURVE_FILE.format(budget=budget)
        )
        figures[f"histogram-{budget}"] = sample_histogram(
            outcomes, measured, metric, budget, folder / HISTOGRAM_FILE.format(budget=budget)
        )
    tables = "\n".join(
        f"## {budget} simulations\n\n" + markdown_table(summaries, metric, budget) for budget in plan.budgets
    )
    (folder / TABLE_FILE).write_text(f"# {task.title}: trusted scores\n\n{tables}", encoding="utf-8")
    (folder / CSV_FILE).write_text(csv_text(summaries), encoding="utf-8")
    write_json_atomic(folder / RESULTS_FILE, _results(plan, outcomes, summaries, measured, metric))
    report = render(
        plan, state, outcomes, summaries, measured, metric, figures, task.title, trusted_setup(task)
    )
    (folder / REPORT_FILE).write_text(report, encoding="utf-8")
    written = {"report": folder / REPORT_FILE, "table": folder / TABLE_FILE, "csv": folder / CSV_FILE,
               "results": folder / RESULTS_FILE}  # fmt: skip
    written.update({name: path for name, path in figures.items() if path is not None})
    return written


def _results(
    plan: ComparePlan,
    outcomes: list[RunOutcome],
    summaries: list[MethodSummary],
    measured: Baselines,
    metric: Metric,
) -> dict[str, Any]:
    return {
        "compare_id": plan.compare_id,
        "metric": metric.to_dict(),
        "baselines": {"scores": measured.scores, "reference": measured.reference},
        "summaries": [s.to_dict() for s in summaries],
        "runs": [
            {
                "run_id": o.entry.run_id,
                "method": o.entry.method,
                "budget": o.entry.budget,
                "repeat": o.entry.repeat,
                "status": o.status,
                "trusted": o.trusted,
                "simulations": o.simulations,
                "dollars": o.dollars,
                "tokens": o.tokens,
                "designs": o.designs,
                "invalid_designs": o.invalid_designs,
                "end_reasons": o.end_reasons,
                "stopped_early": o.stopped_early,
                "curve": [list(p) for p in o.curve],
                "sample_claims": o.sample_claims,
                "timings": o.timings,
            }
            for o in outcomes
        ],
    }
