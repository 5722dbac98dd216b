"""The comparison's Markdown report, written like the evaluation section of the Glia paper.

Every number in it is computed from the collected runs; every sentence that compares methods says which
numbers it rests on. Claims (benchmark scores a design reported) appear only in the `sample` section and
are called claims there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from glia.compare.plan import ComparePlan, is_glia
from glia.compare.results import Baselines, RunOutcome, value_at
from glia.compare.table import MethodSummary, markdown_table
from glia.metric import Metric
from glia.safe_text import md_code, md_inline

CHECKPOINTS = (5, 10, 15, 25, 50, 100, 200)


def render(
    plan: ComparePlan,
    state: dict,
    outcomes: list[RunOutcome],
    summaries: list[MethodSummary],
    baselines: Baselines,
    metric: Metric,
    figures: dict[str, Path | None],
    task_title: str,
    trusted_setup: str,
) -> str:
    parts = [
        f"# Glia against black-box search: {md_inline(task_title, 200)}",
        "",
        _setup(plan, state, outcomes, metric, trusted_setup),
        _baselines(baselines, metric),
    ]
    for budget in plan.budgets:
        parts.append(_budget_section(plan, budget, outcomes, summaries, baselines, metric, figures))
    parts.append(_sample_section(plan, outcomes, baselines, metric, figures))
    parts.append(_cost_section(summaries))
    parts.append(_overhead_section(outcomes))
    parts.append(_method_notes())
    parts.append(_runs_section(plan, state, outcomes))
    return "\n".join(p for p in parts if p).rstrip() + "\n"


# -- sections ---------------------------------------------------------------------------------------


def _setup(
    plan: ComparePlan, state: dict, outcomes: list[RunOutcome], metric: Metric, trusted_setup: str
) -> str:
    methods = ", ".join(m.label for m in plan.methods)
    budgets = " and ".join(str(b) for b in plan.budgets)
    total = len(plan.entries())
    done = sum(1 for o in outcomes if o.done)
    model = plan.researcher_model + (
        f" (Supervisor: {plan.supervisor_model})" if plan.supervisor_model != plan.researcher_model else ""
    )
    endpoint = f" at {plan.base_url}" if plan.base_url else ""
    dollars = f"${plan.max_dollars:g} per run" if plan.max_dollars is not None else "no dollar limit"
    direction = metric.better_word
    return (
        "## Setup\n\n"
        f"We compare {methods} on the task {md_code(plan.task_name, 80)}, each method given the same model "
        f"({md_inline(model + endpoint, 300)}), "
        f"the same simulation budget ({budgets} simulations per run, counted by the simulator itself and "
        f"refused once spent; {dollars}) and the same trusted evaluator. Every method's final design, and every "
        "design that improved its own best benchmark score, is re-scored by Glia's trusted evaluation: "
        f"{md_inline(trusted_setup, 2000)}. The score is the trusted mean {metric.name} ({direction} is better); a method's "
        f"score in a run is its best trusted design. Each method ran {plan.repeats} time(s) per budget; "
        f"{done} of {total} runs have ended (comparison status: {md_inline(state.get('status', 'unknown'), 40)}). "
        "Intervals are 90% bootstrap intervals of the mean across repeats.\n"
    )


def _baselines(baselines: Baselines, metric: Metric) -> str:
    if not baselines.scores:
        return "## Baselines\n\nNo baseline has been measured yet.\n"
    rows = ["## Baselines", "", f"| baseline | trusted {metric.name} |", "| --- | ---: |"]
    for name, score in sorted(baselines.scores.items(), key=lambda item: metric.rank_key(item[1])):
        marker = " (reference)" if name == baselines.reference else ""
        rows.append(f"| {md_inline(name, 80)}{marker} | {score:.3f} |")
    return "\n".join(rows) + "\n"


def _budget_section(
    plan: ComparePlan,
    budget: int,
    outcomes: list[RunOutcome],
    summaries: list[MethodSummary],
    baselines: Baselines,
    metric: Metric,
    figures: dict[str, Path | None],
) -> str:
    mine = [s for s in summaries if s.budget == budget]
    lines = [
        f"## Results with a budget of {budget} simulations",
        "",
        markdown_table(summaries, metric, budget),
    ]
    bars = figures.get(f"bars-{budget}")
    if bars:
        lines += [f"![trusted score per method, {budget} simulations]({bars.name})", ""]
    lines += _findings(mine, baselines, metric)
    curves = figures.get(f"curves-{budget}")
    lines += ["", f"### Finding good designs quickly ({budget} simulations)", ""]
    if curves:
        lines += [f"![best trusted score against simulations used]({curves.name})", ""]
    lines += _checkpoints(plan, budget, outcomes, metric)
    return "\n".join(lines) + "\n"


def _findings(rows: Sequence[MethodSummary], baselines: Baselines, metric: Metric) -> list[str]:
    scored = [s for s in rows if s.mean is not None]
    if not scored:
        return ["No method has a trusted design at this budget yet."]
    ranked = sorted(scored, key=lambda s: metric.rank_key(s.mean))
    out = []
    best = ranked[0]
    out.append(
        f"**{best.label}** has the best mean trusted {metric.name}, {best.mean:.3f}"
        + (f" (90% CI {best.ci[0]:.3f}–{best.ci[1]:.3f})" if best.ci else "")
        + f" over {len(best.scores)} run(s)."
    )
    reference = baselines.scores.get(baselines.reference or "")
    if reference is not None:
        gains = [f"{s.label} {_gain(s.mean, reference, metric):+.1%}" for s in ranked]
        out.append(
            f"Against the reference baseline {md_code(baselines.reference, 80)} ({reference:.3f}): "
            + ", ".join(gains)
            + "."
        )
    glia = [s for s in ranked if is_glia(s.key)]
    others = [s for s in ranked if not is_glia(s.key)]
    if glia and others:
        g, o = glia[0], others[0]
        factor = _factor(g.mean, o.mean, metric)
        if factor is not None:
            relation = "better" if factor > 1 else "worse"
            out.append(
                f"The best Glia variant ({g.label}, {g.mean:.3f}) is {max(factor, 1 / factor):.2f}× {relation} than the "
                f"best black-box method ({o.label}, {o.mean:.3f})."
            )
        overlap = g.ci and o.ci and not (g.ci[1] < o.ci[0] or o.ci[1] < g.ci[0])
        if overlap:
            out.append("Their 90% intervals overlap: more repeats are needed to call the difference.")
    early = [s for s in rows if s.stopped_early]
    for s in early:
        out.append(
            f"{s.label} stopped before spending its budget in {s.stopped_early} of {s.runs} run(s) (it used "
            f"{s.simulations:.1f} simulations on average): it could not use the rest."
        )
    return [" ".join(out)]


def _checkpoints(plan: ComparePlan, budget: int, outcomes: list[RunOutcome], metric: Metric) -> list[str]:
    points = [x for x in CHECKPOINTS if x < budget] + [budget]
    header = "| method | " + " | ".join(f"after {x}" for x in points) + " |"
    lines = [
        f"Mean best trusted {metric.name} so far, over the repeats that had a trusted design by then:",
        "",
        header,
        "| --- |" + " ---: |" * len(points),
    ]
    for spec in plan.methods:
        runs = [o for o in outcomes if o.entry.budget == budget and o.entry.method == spec.key]
        cells = []
        for x in points:
            values = [v for o in runs if (v := value_at(o.curve, x)) is not None]
            cells.append(f"{sum(values) / len(values):.3f} ({len(values)})" if values else "—")
        lines.append(f"| {spec.label} | " + " | ".join(cells) + " |")
    return lines


def _sample_section(plan: ComparePlan, outcomes: list[RunOutcome], baselines: Baselines, metric: Metric,
                    figures: dict[str, Path | None]) -> str:  # fmt: skip
    runs = [o for o in outcomes if o.entry.method == "sample"]
    if not runs:
        return ""
    claims = sorted(c for o in runs for c in o.sample_claims)
    failed = sum(o.sample_failed for o in runs)
    total = len(claims) + failed
    lines = ["## The model as it is", ""]
    for budget in plan.budgets:
        path = figures.get(f"histogram-{budget}")
        if path:
            lines += [f"![sampled designs, {budget}-simulation runs]({path.name})", ""]
    if not total:
        return "\n".join(lines + ["No design has been sampled yet."]) + "\n"
    text = (
        f"`sample` asked the model {total} times for a design from the same detailed prompt. {failed} "
        f"({failed / total:.0%}) failed: rejected by the static checks or invalid in the simulator."
    )
    if claims:
        median = claims[len(claims) // 2]
        text += (
            f" The benchmark scores of the {len(claims)} that ran (claims, measured once each on the public "
            f"benchmark) range from {claims[0]:.3f} to {claims[-1]:.3f}, median {median:.3f}."
        )
        reference = baselines.scores.get(baselines.reference or "")
        if reference is not None:
            beat = sum(1 for c in claims if metric.better(c, reference))
            text += (
                f" {beat} of them claim to beat the reference baseline's trusted score ({reference:.3f}); only the "
                "trusted evaluation of the best ones, in the table above, is evidence."
            )
    return "\n".join(lines + [text]) + "\n"


def _cost_section(summaries: list[MethodSummary]) -> str:
    rows = [
        "## What it cost",
        "",
        "| budget | method | runs | dollars per run | dollars in all |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    total = 0.0
    for s in summaries:
        if not s.runs:
            continue
        total += s.dollars_total
        flag = "" if s.cost_known else " (some calls unpriced)"
        rows.append(
            f"| {s.budget} | {s.label} | {s.runs} | ${s.dollars:.2f}{flag} | ${s.dollars_total:.2f} |"
        )
    rows += [
        "",
        f"Model spend over every run: ${total:.2f} (list prices; trusted evaluations cost no model calls).",
    ]
    return "\n".join(rows) + "\n"


def _overhead_section(outcomes: list[RunOutcome]) -> str:
    rows = []
    for o in outcomes:
        t = {
            k: float(o.timings.get(k) or 0.0)
            for k in ("wall_s", "model_s", "bench_s", "setup_s", "teardown_s")
        }
        if not o.timings or not o.simulations:
            continue
        own = max(0.0, t["wall_s"] - t["model_s"] - t["bench_s"] - t["setup_s"] - t["teardown_s"])
        rows.append(
            f"| {o.entry.run_id} | {o.simulations} | {t['wall_s']:.1f} | {t['setup_s'] + t['teardown_s']:.1f} "
            f"| {t['model_s']:.1f} | {t['bench_s']:.1f} | {own / o.simulations:.2f} |"
        )
    if not rows:
        return ""
    head = [
        "## Glia's own overhead in the black-box runs",
        "",
        "Wall time of each search (trusted evaluation excluded): starting and removing the sandbox, model "
        "calls, benchmark commands in the sandbox, and the rest, Glia's own work per simulation (prompts, "
        "checks, writing the design in, records):",
        "",
        "| run | simulations | search wall s | sandbox start and stop s | model s | benchmark s | own s per simulation |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    return "\n".join(head + rows) + "\n"


def _method_notes() -> str:
    return (
        "## How the methods ran\n\n"
        "- **SCG, MCG-Seq, MCG-Par-N**: Glia's Researcher and Supervisor in sandboxed copies of the simulator; "
        "each context's final design and the design it claimed best are trusted-evaluated.\n"
        "- **Sample**: independent designs from one detailed prompt (the brief with the measured baselines, "
        "the design's interface, the design file), each benchmarked once.\n"
        '- **Loop**: the generate-and-verify loop of "AI for Distributed Systems Design": static checks '
        "reject a design with its exact error before any simulation; each design's stated idea and result are "
        "summarised into the next prompt.\n"
        "- **OpenEvolve**: the OpenEvolve package through its Python API, initial program the reference "
        "baseline, exploration 0.6, exploitation 0.4 (the Glia paper's Table 1), its model calls and its "
        "evaluator routed through Glia (each candidate benchmarked in the sandbox, charged to the budget).\n"
        "\nIn every method the candidates run only in sandboxes, every simulation is charged to the run's one "
        "budget, and a design's benchmark score is only a claim that steers the search: the scores above are "
        "the trusted evaluator's.\n"
    )


def _runs_section(plan: ComparePlan, state: dict, outcomes: list[RunOutcome]) -> str:
    by_id = {o.entry.run_id: o for o in outcomes}
    rows = ["## Runs", "", "| run | method | budget | repeat | status | trusted | simulations | dollars |",
            "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |"]  # fmt: skip
    for entry in plan.entries():
        o = by_id.get(entry.run_id)
        recorded = (state.get("runs") or {}).get(entry.run_id) or {}
        status = o.status if o else recorded.get("status", "pending")
        if recorded.get("error"):
            status += f" ({recorded['error']})"
        status = md_inline(status, 300)
        trusted = f"{o.trusted:.3f}" if o and o.trusted is not None else "—"
        rows.append(
            f"| {md_code(entry.run_id, 120, in_table=True)} | {plan.method(entry.method).label} | {entry.budget} | {entry.repeat} | {status} "
            f"| {trusted} | {o.simulations if o else 0} | ${o.dollars if o else 0:.2f} |"
        )
    rows += [
        "",
        "Each run folder has its own `report.md` (`glia report RUN`) and research notes (`glia show RUN`).",
    ]
    return "\n".join(rows) + "\n"


def _gain(score: float, reference: float, metric: Metric) -> float:
    gain = metric.improvement(score, reference)
    return math.nan if gain is None else gain


def _factor(glia: float, other: float, metric: Metric) -> float | None:
    """How many times better Glia's mean is (>1) or worse (<1), as the paper states it."""
    return metric.times_better(glia, other)
