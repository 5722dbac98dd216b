"""The run report: a scoreboard, what the record says about each context's claims, the best design with
the Researcher's account, and a progress plot.

Everything comes from the run folder through the one reader (`glia.record.view`), so a report can be
written for a finished, failed, interrupted or still running run, as often as wanted. The report is honest
about the winner: every context's best claim is set against the trusted verdict on the same design, files
a context changed outside the design are listed, and a statistical tie between the top two designs is
said out loud. The plot is the paper's view (Fig. 7): the best trusted score so far (solid, from designs
judged as the run went on) and the best claim so far (light) against simulations used, per context,
with experiments and rejected designs marked and the baselines as horizontal lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from glia.orchestrator.best import summary_lines
from glia.progress import simulations_cell
from glia.record.audit import FileChanges, claim_gap, outside_changes, statistical_tie
from glia.record.view import ContextView, RunView, read_run
from glia.safe_text import md_code, md_fence, md_inline

REPORT_FILE = "report.md"
PLOT_FILE = "progress.png"
DESIGN_SUFFIXES = (".py", ".cc", ".cpp", ".c", ".h", ".rs", ".go", ".java")


def write_report(run_dir: Path) -> tuple[Path, Path]:
    """Write report.md and progress.png into the run folder; returns both paths."""
    run_dir = Path(run_dir)
    state = read_run(run_dir)
    plot_path = plot_progress(state, run_dir / PLOT_FILE)
    report_path = run_dir / REPORT_FILE
    report_path.write_text(render_report(state), encoding="utf-8")
    return report_path, plot_path


# ---------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------


def render_report(state: RunView) -> str:
    sections = [
        _header(state),
        _result(state),
        _scoreboard(state),
        _claims(state),
        f"## Progress\n\n![best score against simulations used]({PLOT_FILE})\n",
        _best_design(state),
        _budget(state),
    ]
    return "\n".join(section for section in sections if section).rstrip() + "\n"


def _header(state: RunView) -> str:
    doc = state.doc
    task = f"{doc.task_name} ({doc.task_title})" if doc.task_title else doc.task_name
    facts = [
        ("task", task),
        ("strategy", state.strategy_label),
        ("status", state.status_text()),
        ("researcher", doc.config.get("researcher_model")),
        ("supervisor", doc.config.get("supervisor_model")),
        ("started", doc.started),
        ("ended", doc.ended),
    ]
    lines = [f"# Glia run {md_code(state.run_id, 120)}", ""]
    lines += [
        f"- **{name}:** {md_inline(value, 300)}" for name, value in facts if value and isinstance(value, str)
    ]
    lines.append(
        f"- **scores:** trusted re-evaluation by Glia's evaluator; objective: {md_inline(state.metric.describe(), 300)}"
    )
    return "\n".join(lines) + "\n"


def _result(state: RunView) -> str:
    score, where = state.best_trusted()
    metric = state.metric
    if score is None:
        reason = state.doc.no_best_reason or state.doc.error
        text = "## Result\n\nNo design has a trusted score"
        text += f": {md_inline(reason, 600)}." if reason else " yet."
        return text + "\n"
    reference_name, reference = state.reference_baseline()
    gain = metric.improvement(score, reference)
    text = f"## Result\n\n**Best trusted score: {metric.format(score, 3)}**"
    if where:
        text += f" (from {md_inline(where, 80)})"
    if gain is not None:
        text += f", **{gain:+.1%}** over {md_inline(reference_name, 60)} ({metric.format(reference, 3)})"
    text += ". The design is in `best/`.\n"
    tie = statistical_tie(state)
    if tie is not None:
        text += f"\n> **{tie.text(metric)}**\n"
    return text


def _ci_text(interval: tuple[float, float] | None) -> str:
    return f"[{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "—"


def _scoreboard(state: RunView) -> str:
    metric = state.metric
    rows = [
        "## Scoreboard",
        "",
        "| entry | trusted | 90% CI | best claim | simulations | cost | end reason |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for ctx in state.contexts:
        best = ctx.best_verdict()
        claim = ctx.best_claim()
        rows.append(
            f"| {md_inline(ctx.name, 40)} | {_cell(ctx.verdict_text(3))} | {_ci_text(best.interval if best else None)} "
            f"| {metric.format(claim.claimed_score if claim else None, 3)} | {simulations_cell(ctx)} "
            f"| ${ctx.cost_usd:.2f} | {_cell(_end_text(ctx))} |"
        )
    for name, score in sorted(state.baseline_scores().items(), key=lambda item: item[1]):
        entry = state.baseline(name)
        interval = (entry.ci_low, entry.ci_high) if entry and entry.ci_low is not None else None
        rows.append(
            f"| baseline {md_code(name, 60, in_table=True)} | {metric.format(score, 3)} | {_ci_text(interval)} | — | — | — | — |"  # type: ignore[arg-type]
        )
    return "\n".join(rows) + "\n"


def _end_text(ctx: ContextView) -> str:
    text = ctx.status
    if ctx.error and ctx.status not in ("running", "pending"):
        text += f" ({ctx.error})"
    return text


def _cell(text: str, width: int = 160) -> str:
    return md_inline(text, width)


def _claims(state: RunView) -> str:
    """Every context's best claim against the trusted verdict on that design, and what it changed
    outside the design (the chosen design's snapshot and each context's final one)."""
    metric = state.metric
    lines = [
        "## Claims against trusted verdicts",
        "",
        "A claim is a benchmark run of the design under the task's own conditions, as the context's own "
        "copy of the simulator reported it; experiments (other conditions) are counted but never ranked. "
        "Only trusted verdicts choose the design.",
        "",
        "| context | best claim | trusted on that design | gap | changed outside the design | added files |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    best, _ = state.best()
    for ctx in state.contexts:
        gap = claim_gap(ctx)
        snapshots = [gap.claim.snapshot if gap else None, ctx.final_sha]
        if best is not None and best.context == ctx.index:
            snapshots.append(best.sha)
        changes = _changes(state, ctx, snapshots)
        changed = (
            ", ".join(md_code(p, 200, in_table=True) for p in changes.changed)
            if changes and changes.changed
            else "none"
        )
        if changes and changes.changed:
            changed = "⚠ " + changed
        added = (
            ", ".join(md_code(p, 200, in_table=True) for p in changes.added[:8])
            if changes and changes.added
            else "—"
        )
        if changes is None:
            changed = added = "—"
        if gap is None:
            lines.append(f"| {md_inline(ctx.name, 40)} | — | — | — | {changed} | {added} |")
            continue
        trusted = "not judged" if gap.verdict is None else gap.verdict.describe(metric)
        size = gap.gap(metric)
        gap_text = "—" if size is None else gap.text(metric).rsplit("(", 1)[-1].rstrip(")")
        lines.append(
            f"| {md_inline(ctx.name, 40)} | {metric.format(gap.claim.claimed_score, 3)} (sim {gap.claim.index}) "
            f"| {_cell(trusted, 100)} | {md_inline(gap_text, 60)} | {changed} | {added} |"
        )
    return "\n".join(lines) + "\n"


def _changes(state: RunView, ctx: ContextView, snapshots: list[str | None]) -> FileChanges | None:
    """Files changed outside the design in any of these snapshots of a context (its best claim's, its
    final one, the chosen one): a claim measured on a modified simulator is flagged even when the
    context put the simulator back later."""
    found = [
        c
        for sha in dict.fromkeys(s for s in snapshots if s)
        if (c := outside_changes(state.run_dir, ctx.index, sha, state.doc.design_files)) is not None
    ]
    if not found:
        return None
    changed = tuple(dict.fromkeys(p for c in found for p in c.changed))
    added = tuple(dict.fromkeys(p for c in found for p in c.added))
    return FileChanges(changed, added)


def _best_design(state: RunView) -> str:
    run_dir = state.run_dir
    best, context = state.best()
    folder = run_dir / "best"
    if best is None or not folder.is_dir():
        return "## The best design\n\nNo design has been selected.\n"
    metric = state.metric
    verdict = context.verdict_for(best.sha) if context else None
    parts = ["## The best design", ""]
    interval = f", 90% CI {_ci_text(verdict.interval)}" if verdict and verdict.interval else ""
    parts.append(
        f"ctx-{best.context}, {md_inline(best.label, 40)} snapshot {md_code(best.sha[:12])}: trusted score "
        f"**{metric.format(best.score, 3)}**{interval}. Trusted numbers per workload: `best/explanation.md`.\n"
    )
    changes = outside_changes(run_dir, best.context, best.sha, state.doc.design_files)
    if changes is not None and changes.changed:
        parts.append(
            "> **⚠ This context also changed "
            + ", ".join(md_code(p, 200) for p in changes.changed)
            + ".** Its own measurements and its account below were made on that modified simulator; the "
            "trusted score used the design file(s) alone on a pristine one.\n"
        )
    gap = claim_gap(context) if context else None
    if gap is not None and gap.verdict is not None:
        parts.append(f"Its best claim: {md_inline(gap.text(metric), 400)}.\n")
    for path in sorted(p for p in folder.rglob("*") if p.suffix in DESIGN_SUFFIXES and p.is_file()):
        code = path.read_text(encoding="utf-8", errors="replace")
        parts += [
            f"### Design file {md_code(path.relative_to(folder), 200)}",
            "",
            md_fence(code, path.suffix),
            "",
        ]
    diff = folder / "design.diff"
    if diff.is_file() and diff.stat().st_size:
        body = diff.read_text(encoding="utf-8", errors="replace")
        parts += ["### Diff from the template", "", md_fence(body, "diff"), ""]
    parts += ["### The Researcher's account", ""]
    parts += summary_lines(context.finish_summary if context else None, context.status if context else None)
    return "\n".join(parts)


def _budget(state: RunView) -> str:
    totals, limits = state.totals(), state.budgets()

    def cell(used: float, limit: float | None, digits: int) -> str:
        return f"{used:.{digits}f}" + (f" of {limit:.{digits}f}" if limit is not None else "")

    notes = [*state.doc.notes, *state.doc.recovered]
    return (
        "## Budget\n\n"
        f"- simulations: {cell(totals['simulations'], limits['simulations'], 0)}\n"
        f"- dollars: {cell(totals['dollars'], limits['dollars'], 2)}\n"
        f"- minutes: {cell(totals['minutes'], limits['minutes'], 1)}\n"
        + "".join(f"\n> {md_inline(note, 1000)}\n" for note in notes)
    )


# ---------------------------------------------------------------------------------------------------
# The plot
# ---------------------------------------------------------------------------------------------------


def _running_best(points: list[tuple[int, float]], state: RunView) -> list[tuple[int, float]]:
    best: list[tuple[int, float]] = []
    for x, y in sorted(points):
        if not best or state.metric.better(y, best[-1][1]):
            best.append((x, y))
    return best


def _steps(points: list[tuple[int, float]], end: int) -> tuple[list[int], list[float]]:
    """Step-line coordinates of a running best, carried to `end` simulations."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    if points and end > xs[-1]:
        xs.append(end)
        ys.append(ys[-1])
    return xs, ys


@dataclass
class ContextSeries:
    """One context's marks on the progress plot, on the run's simulations-used axis."""

    claimed: list[tuple[int, float]]  # running best claim
    trusted: list[tuple[int, float]]  # running best trusted score
    end: int  # simulations used when the context last ran one
    experiments: list[tuple[int, float]] = field(default_factory=list)
    rejected: list[tuple[int, float]] = field(default_factory=list)  # at the claim of the rejected design


def progress_series(state: RunView) -> dict[str, ContextSeries]:
    """Per context: running best claim and trusted score, experiments and rejected designs."""
    series = {}
    for ctx in state.contexts:
        sims = ctx.sims
        end = max((ctx.run_axis(s) for s in sims), default=0)
        trusted = state.timeline(ctx.index, "trusted")
        if not trusted:  # a run recorded before verdicts had run totals: the verdicts, where they ran
            trusted = [(_verdict_x(ctx, v.entry.sim_index, end), v.score) for v in ctx.verdicts if v.valid]  # type: ignore[misc]
        experiments = [
            (ctx.run_axis(s), value)
            for s in ctx.experiments()
            if s.valid and (value := s.value(state.metric)) is not None
        ]
        rejected: list[tuple[int, float]] = []
        for verdict in ctx.verdicts:
            if verdict.valid or verdict.entry.duplicate_of:
                continue  # a design judged again under another label is marked once
            sim = next((s for s in sims if s.snapshot == verdict.entry.sha), None)
            y = sim.claimed_score if sim is not None else None
            if y is None:
                claim = ctx.best_claim()
                y = claim.claimed_score if claim else None
            if y is not None:
                rejected.append(
                    (ctx.run_axis(sim) if sim else _verdict_x(ctx, verdict.entry.sim_index, end), y)
                )
        series[ctx.name] = ContextSeries(
            claimed=_running_best(ctx.claim_curve(), state),
            trusted=_running_best(trusted, state),  # type: ignore[arg-type]
            end=end,
            experiments=experiments,
            rejected=rejected,
        )
    return series


def _verdict_x(ctx: ContextView, sim_index: int | None, end: int) -> int:
    sim = ctx.simulations.get(sim_index) if sim_index else None
    return ctx.run_axis(sim) if sim is not None else end


def plot_progress(state: RunView, path: Path) -> Path:
    """Best trusted (solid) and best claimed (light) score against simulations used, per context."""
    figure = Figure(figsize=(8, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    experiments_labelled = rejected_labelled = False
    for i, (name, lines) in enumerate(progress_series(state).items()):
        color, end = f"C{i % 10}", lines.end
        if lines.claimed:
            xs, ys = _steps(lines.claimed, end)
            axes.step(xs, ys, where="post", color=color, alpha=0.35, linestyle="--", label=f"{name} claimed")
            axes.plot(*zip(*lines.claimed, strict=True), ".", color=color, alpha=0.35)
        if lines.trusted:
            xs, ys = _steps(lines.trusted, end)
            axes.step(xs, ys, where="post", color=color, linewidth=2, label=f"{name} trusted")
            axes.plot(*zip(*lines.trusted, strict=True), "o", color=color)
        if lines.experiments:
            label = None if experiments_labelled else "experiments (other conditions, not ranked)"
            axes.plot(*zip(*lines.experiments, strict=True), "x", color=color, alpha=0.5, label=label)
            experiments_labelled = True
        if lines.rejected:
            label = None if rejected_labelled else "rejected by trusted evaluation"
            axes.plot(*zip(*lines.rejected, strict=True), "X", color="red", markersize=9, label=label)
            rejected_labelled = True
    for j, (name, score) in enumerate(sorted(state.baseline_scores().items())):
        axes.axhline(score, color="0.4", linestyle=":", linewidth=1)
        axes.annotate(
            name, (0, score), xytext=(4, 2 + 8 * (j % 2)), textcoords="offset points", color="0.3", fontsize=8
        )
    direction = "lower is better" if state.metric.lower_is_better else "higher is better"
    unit = f" ({state.metric.unit})" if state.metric.unit else ""
    axes.set_xlabel("simulations used (whole run)")
    axes.set_ylabel(f"best {state.metric.name}{unit} so far ({direction})")
    axes.set_title(f"{state.run_id} · {state.strategy_label}")
    axes.grid(alpha=0.3)
    axes.set_xlim(left=0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path
