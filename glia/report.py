"""The run report: a scoreboard, the best design with its explanation, and a progress plot.

Everything comes from the run folder, so a report can be written for a finished, interrupted or still
running run, as often as wanted. The plot is the paper's view (Fig. 7/8): best score so far against
simulations used, per context, with the baselines as horizontal reference lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from glia.progress import (
    RunState,
    best_context_evaluation,
    evaluation_interval,
    evaluation_score,
    fmt,
    improvement,
    load_json,
    read_run,
    trusted_points,
)

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


def render_report(state: RunState) -> str:
    sections = [
        _header(state),
        _result(state),
        _scoreboard(state),
        f"## Progress\n\n![best score against simulations used]({PLOT_FILE})\n",
        _best_design(state.run_dir),
        _budget(state),
    ]
    return "\n".join(section for section in sections if section).rstrip() + "\n"


def _header(state: RunState) -> str:
    run, config = state.run, state.run.get("config") or {}
    facts = [
        ("task", _task_name(run, config)),
        ("strategy", state.strategy_label),
        ("status", state.status),
        ("researcher", config.get("researcher_model") or run.get("researcher_model")),
        ("supervisor", config.get("supervisor_model") or run.get("supervisor_model")),
        ("started", run.get("started")),
        ("ended", run.get("ended") or run.get("finished")),
    ]
    lines = [f"# Glia run `{state.run_id}`", ""]
    lines += [f"- **{name}:** {value}" for name, value in facts if value and not isinstance(value, dict)]
    direction = "lower" if state.lower_is_better else "higher"
    lines.append(f"- **scores:** trusted re-evaluation by Glia's evaluator; {direction} is better")
    return "\n".join(lines) + "\n"


def _task_name(run: dict[str, Any], config: dict[str, Any]) -> str | None:
    task = run.get("task")
    if isinstance(task, dict):
        title = f" ({task['title']})" if task.get("title") else ""
        return f"{task.get('name')}{title}" if task.get("name") else None
    return str(task or config.get("task_path") or "") or None


def _result(state: RunState) -> str:
    score, where = state.best_trusted()
    if score is None:
        return "## Result\n\nNo design has a trusted score yet.\n"
    reference_name, reference = state.reference_baseline()
    gain = improvement(score, reference, state.lower_is_better)
    text = f"## Result\n\n**Best trusted score: {score:.3f}**"
    if where:
        text += f" (from {where})"
    if gain is not None:
        text += f", **{gain:+.1%}** over {reference_name} ({reference:.3f})"
    return text + ". The design is in `best/`.\n"


def _ci_text(record: dict[str, Any] | None) -> str:
    interval = evaluation_interval(record) if record else None
    return f"[{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "—"


def _scoreboard(state: RunState) -> str:
    rows = [
        "## Scoreboard",
        "",
        "| entry | trusted mean | 90% CI | best claimed | simulations | cost | end reason |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for ctx in state.contexts:
        record = best_context_evaluation(state.run_dir, ctx)
        trusted = ctx.best_trusted if ctx.best_trusted is not None else (record and evaluation_score(record))
        rows.append(
            f"| {ctx.name} | {fmt(trusted or None, 3)} | {_ci_text(record)} | {fmt(ctx.best_claimed, 3)} "
            f"| {ctx.simulations} | ${ctx.cost_usd:.2f} | {ctx.end_reason or ctx.status} |"
        )
    for name, score in sorted(state.baseline_scores().items(), key=lambda item: item[1]):
        record = load_json(state.run_dir / "evaluations" / f"{name}.json")
        rows.append(f"| baseline `{name}` | {score:.3f} | {_ci_text(record)} | — | — | — | — |")
    return "\n".join(rows) + "\n"


def _best_design(run_dir: Path) -> str:
    best = run_dir / "best"
    if not best.is_dir():
        return "## The best design\n\nNo best design has been selected yet.\n"
    parts = ["## The best design", ""]
    evaluation = load_json(best / "evaluation.json")
    if evaluation:
        parts.append(
            f"Trusted score **{fmt(evaluation_score(evaluation), 3)}**, 90% CI {_ci_text(evaluation)}"
            + (f" ({evaluation.get('label')})" if evaluation.get("label") else "")
            + ".\n"
        )
    explanation = best / "explanation.md"
    if explanation.is_file():
        parts += [
            "### Why it works",
            "",
            _demote_headings(explanation.read_text(encoding="utf-8").strip()),
            "",
        ]
    for path in sorted(p for p in best.rglob("*") if p.suffix in DESIGN_SUFFIXES and p.is_file()):
        code = path.read_text(encoding="utf-8", errors="replace").rstrip()
        parts += [f"### `{path.relative_to(best)}`", "", f"````{path.suffix.lstrip('.')}", code, "````", ""]
    diff = best / "design.diff"
    if diff.is_file() and diff.stat().st_size:
        body = diff.read_text(encoding="utf-8", errors="replace").rstrip()
        parts += [
            "<details><summary>Diff from the template</summary>",
            "",
            "````diff",
            body,
            "````",
            "",
            "</details>",
            "",
        ]
    return "\n".join(parts)


def _demote_headings(markdown: str) -> str:
    """Push the explanation's headings below the report's own (# -> ####)."""
    return "\n".join(f"###{line}" if line.startswith("#") else line for line in markdown.splitlines())


def _budget(state: RunState) -> str:
    totals, limits = state.totals(), state.budgets()

    def cell(used: float, limit: float | None, digits: int) -> str:
        return f"{used:.{digits}f}" + (f" of {limit:.{digits}f}" if limit is not None else "")

    notes = [str(n) for n in state.run.get("notes") or [] if n]
    return (
        "## Budget\n\n"
        f"- simulations: {cell(totals['simulations'], limits['simulations'], 0)}\n"
        f"- dollars: {cell(totals['dollars'], limits['dollars'], 2)}\n"
        f"- minutes: {cell(totals['minutes'], limits['minutes'], 1)}\n"
        + "".join(f"\n> {note}\n" for note in notes)
    )


# ---------------------------------------------------------------------------------------------------
# The plot
# ---------------------------------------------------------------------------------------------------


def _offsets(state: RunState) -> dict[str, int]:
    """Fallback x offsets when run.json has no run-level counts: sequential contexts continue one axis."""
    sequential = "seq" in state.strategy_label.lower()
    offsets, used = {}, 0
    for ctx in state.contexts:
        offsets[ctx.name] = used if sequential else 0
        used += ctx.simulations
    return offsets


def _running_best(points: list[tuple[int, float]], lower: bool) -> list[tuple[int, float]]:
    best: list[tuple[int, float]] = []
    for x, y in sorted(points):
        if not best or (y < best[-1][1] if lower else y > best[-1][1]):
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
    """One context's lines on the progress plot, on the run's simulation axis."""

    claimed: list[tuple[int, float]]
    trusted: list[tuple[int, float]]
    end: int  # simulations used when the context last ran one


def progress_series(state: RunState) -> dict[str, ContextSeries]:
    """Per context: running best claimed and trusted scores against the run's simulations used."""
    offsets = _offsets(state)
    series = {}
    for ctx in state.contexts:
        offset = offsets[ctx.name]
        claimed = [(ctx.run_axis(i, offset), y) for i, y in ctx.claimed_points]
        trusted = state.timeline(ctx.name, "trusted")
        if not trusted:
            trusted = [(ctx.run_axis(i, offset), y) for i, y in trusted_points(state.run_dir, ctx)]
        if not trusted and ctx.best_trusted is not None:
            trusted = [(ctx.run_axis(ctx.simulations, offset), ctx.best_trusted)]
        end = ctx.run_axis(ctx.simulations, offset) if ctx.simulations else 0
        series[ctx.name] = ContextSeries(
            claimed=_running_best(claimed, state.lower_is_better),
            trusted=_running_best(trusted, state.lower_is_better),
            end=end,
        )
    return series


def plot_progress(state: RunState, path: Path) -> Path:
    """Best trusted (solid) and best claimed (light) score against simulations used, per context."""
    figure = Figure(figsize=(8, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
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
    for j, (name, score) in enumerate(sorted(state.baseline_scores().items())):
        axes.axhline(score, color="0.4", linestyle=":", linewidth=1)
        axes.annotate(
            name, (0, score), xytext=(4, 2 + 8 * (j % 2)), textcoords="offset points", color="0.3", fontsize=8
        )
    direction = "lower is better" if state.lower_is_better else "higher is better"
    axes.set_xlabel("simulations used (whole run)")
    axes.set_ylabel(f"best score so far ({direction})")
    axes.set_title(f"{state.run_id} · {state.strategy_label}")
    axes.grid(alpha=0.3)
    axes.set_xlim(left=0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path
