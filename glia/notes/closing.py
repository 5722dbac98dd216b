"""The notebook's summary table and closing sections: how the context ended, the final design, its
trusted verdict with the reason when it was rejected, and what changed outside the design."""

from __future__ import annotations

from pathlib import Path

from glia.metric import Metric
from glia.notes.diff import design_diff
from glia.notes.text import fence
from glia.record import events as ev
from glia.record.audit import claim_gap, outside_changes
from glia.record.view import ContextView, RunView
from glia.safe_text import md_code, md_inline
from glia.workspace.history import HISTORY_DIR


def summary_block(view: ContextView, metric: Metric, end: ev.ContextEnded | None, turns: int) -> list[str]:
    """The table under the notebook's header: status, turns, simulations, best claim, trusted, cost."""
    best = view.best_claim()
    best_text = f"{metric.format(best.claimed_score, 3)} (simulation {best.index})" if best else "—"
    status = md_inline(f"ended: {end.reason}" if end else view.status, 200)
    experiments = len(view.experiments())
    plural = "s" if experiments != 1 else ""
    sims = f"{len(view.simulations)}" + (f" ({experiments} experiment{plural})" if experiments else "")
    rows = [
        "| status | turns | simulations | best claim | trusted | cost |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {status} | {turns} | {sims} | {best_text} | {md_inline(view.verdict_text(3), 200)} | ${view.cost_usd:.2f} |",
    ]
    return [*rows, ""]


def unfinished_line(run: RunView) -> str:
    """The closing line of a context with no recorded end: still working, or stopped with its run."""
    status = run.status
    if run.live:
        return "\n_The context is still working._\n"
    if status in ("interrupted", "failed"):
        return f"\n_The run was {status} before this context ended; `glia resume` continues it._\n"
    return "\n_This context has no recorded end, and no process is working on its run._\n"


def final_design_block(ctx_dir: Path, run: RunView, view: ContextView, end: ev.ContextEnded) -> list[str]:
    """The closing section of an ended context: why it ended, the verdicts, outside changes, the diff."""
    metric = run.metric
    lines = ["\n## The final design\n", f"Ended because: **{md_inline(end.reason, 200)}**."]
    if end.final_snapshot:
        lines.append(f"Final snapshot {md_code(end.final_snapshot[:10])}.")
    lines += verdict_lines(run, view)
    gap = claim_gap(view)
    if gap is not None and gap.verdict is not None:
        lines.append(f"Best claim against trusted: {md_inline(gap.text(metric), 400)}.")
    changes = outside_changes(run.run_dir, view.index, end.final_snapshot, run.doc.design_files)
    if changes is not None and changes.changed:
        lines.append(
            "**⚠ Changed outside the design:** "
            + ", ".join(md_code(p, 200) for p in changes.changed)
            + " (its own measurements ran on that modified simulator; trusted evaluation uses the "
            "design file(s) alone)."
        )
    diff = design_diff(ctx_dir / HISTORY_DIR, end.final_snapshot)
    if diff:
        lines.append(
            f"\n<details><summary>Diff from the template</summary>\n\n{fence(diff, 'diff')}\n\n</details>\n"
        )
    return lines


def verdict_lines(run: RunView, view: ContextView) -> list[str]:
    """The trusted verdicts on the context's designs, or why there is none yet."""
    metric = run.metric
    best = view.best_verdict()
    lines = []
    if best is not None:
        lines.append(
            f"**Trusted score: {md_inline(best.describe(metric), 300)}** (re-evaluated by the evaluator)."
        )
    verdicts = view.verdicts
    problems = view.entry.evaluation_problems if view.entry else ()
    if not verdicts and not problems:
        if view.judged:
            lines.append("**Trusted verdict:** nothing to evaluate.")
        elif run.live:
            lines.append("**Trusted verdict:** not evaluated yet (designs are judged as the run goes on).")
        else:
            lines.append(
                "**Trusted verdict:** not evaluated (the run stopped first; `glia resume` judges it)."
            )
        return lines
    if best is None:
        lines.append(f"**Trusted verdict: {md_inline(view.verdict_text(3), 600)}**.")
    for verdict in verdicts:
        interval = verdict.interval
        ci = f" [{metric.format(interval[0], 3)}, {metric.format(interval[1], 3)}]" if interval else ""
        same = f" (same design as {verdict.entry.duplicate_of})" if verdict.entry.duplicate_of else ""
        described = (
            f"{md_inline(verdict.describe(metric), 600)}{ci if verdict.valid else ''}{md_inline(same, 80)}"
        )
        lines.append(f"- {md_inline(verdict.label, 40)} {md_code(verdict.entry.sha[:10])}: {described}")
    for problem in problems:
        lines.append(f"- not evaluated: {md_inline(problem, 600)}")
    return lines
