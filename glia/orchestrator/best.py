"""The run's answer on disk: `best/` holds the chosen design, its trusted evaluation, the Researcher's
account of it (with what the record says about that account) and what it changed. Rewritten whenever a
better trusted design appears, so an interrupted run still has one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from glia.evaluation.trusted import TrustedVerdict
from glia.metric import Metric
from glia.record.account import ACCOUNT_LABEL, account_text
from glia.record.audit import ClaimGap, FileChanges, Tie, claim_gap, outside_changes, statistical_tie
from glia.record.view import read_run
from glia.run_store import BEST_DIR, EVALUATIONS_DIR, context_dir, write_json_atomic
from glia.safe_text import md_code, md_fence, md_inline
from glia.task import Task
from glia.workspace.history import HISTORY_DIR, History


def relative_improvement(score: float | None, reference: float | None, metric: Metric) -> float | None:
    """How much better `score` is than `reference`, as a fraction of the reference (positive = better)."""
    return metric.improvement(score, reference)


def write_best(
    run_dir: Path,
    task: Task,
    best: TrustedVerdict,
    baselines: dict[str, float | None],
    finish_summary: dict[str, Any] | None,
    end_reason: str | None,
) -> Path:
    """(Re)write `best/` for `best`; built next to the old folder and swapped in, never half-written."""
    run_dir = Path(run_dir)
    target = run_dir / BEST_DIR
    staging = run_dir / f".{BEST_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    history = History(context_dir(run_dir, best.context) / HISTORY_DIR)
    for relpath, name in _output_names(task.design_files).items():
        (staging / name).write_text(history.read_text(best.sha, relpath), encoding="utf-8")
    write_json_atomic(staging / "evaluation.json", best.evaluation.to_dict())
    patch = history.diff(history.first_commit(), best.sha, list(task.design_files))
    (staging / "design.diff").write_text(patch + ("\n" if patch else ""), encoding="utf-8")
    reference = reference_workload_means(run_dir, task.evaluation.reference_baseline)
    caveats = account_caveats(run_dir, task, best)
    (staging / "explanation.md").write_text(
        explanation(task, best, baselines, finish_summary, end_reason, reference, caveats), encoding="utf-8"
    )

    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def reference_workload_means(run_dir: Path, router: str) -> dict[str, float]:
    """The reference baseline's trusted mean per workload (held-out ones too), from its evaluation file."""
    path = Path(run_dir) / EVALUATIONS_DIR / f"{router}.json"
    try:
        workloads = json.loads(path.read_text(encoding="utf-8")).get("workloads") or {}
    except (OSError, json.JSONDecodeError):
        return {}
    return {name: w["mean"] for name, w in workloads.items() if isinstance(w.get("mean"), int | float)}


def account_caveats(run_dir: Path, task: Task, best: TrustedVerdict) -> list[str]:
    """What the record says about the chosen context's account: its claim against the truth, files it
    changed outside the design, and a statistical tie with the runner-up. Empty when unreadable."""
    try:
        run = read_run(run_dir)
    except Exception:  # noqa: BLE001 - caveats are a view; best/ is written regardless
        return []
    context = run.context(best.context)
    gap = claim_gap(context) if context is not None else None
    changes = outside_changes(run_dir, best.context, best.sha, task.design_files)
    return caveat_lines(task.metric, gap, changes, statistical_tie(run))


def caveat_lines(
    metric: Metric, gap: ClaimGap | None, changes: FileChanges | None, tie: Tie | None
) -> list[str]:
    lines = []
    if gap is not None:
        lines.append(
            f"- **Claim against trusted:** this context's best claim was {md_inline(gap.text(metric), 400)}."
        )
    if changes is not None and changes.changed:
        lines.append(
            "- **⚠ Changed outside the design:** this snapshot also changed "
            + ", ".join(md_code(p, 200) for p in changes.changed)
            + ". The context's own measurements ran on that modified simulator; the trusted evaluation "
            "used the design file(s) alone on a pristine one."
        )
    if changes is not None and changes.added:
        lines.append("- Files it added (its own scripts and notes, not part of the design): "
                     + ", ".join(md_code(p, 200) for p in changes.added[:20]) + ".")  # fmt: skip
    if tie is not None:
        lines.append(f"- **{tie.text(metric)}**")
    return lines


def explanation(
    task: Task,
    best: TrustedVerdict,
    baselines: dict[str, float | None],
    finish_summary: dict[str, Any] | None,
    end_reason: str | None,
    reference_by_workload: dict[str, float] | None = None,
    caveats: list[str] | None = None,
) -> str:
    """explanation.md: trusted numbers against the baselines, what the record says about the account,
    then the Researcher's own account.

    Every workload row, held-out ones included, is compared with the reference baseline on the same
    workload, so a design that only wins where it was tuned shows it.
    """
    metric, spec = task.metric, task.evaluation
    unit = f" ({metric.unit})" if metric.unit else ""
    lines = [
        f"# Best design: context {best.context}, {md_inline(best.label, 40)} snapshot {md_code(best.sha[:12])}",
        "",
        f"Task {md_code(task.name, 80)}. Chosen by trusted re-evaluation ({metric.direction} "
        f"{md_code(metric.name, 60)}), not by the score the context reported.",
        "",
        "## Trusted evaluation",
        "",
        f"| design | workload | {md_inline(metric.name, 60)}{md_inline(unit, 30)} | 90% CI "
        f"| {md_inline(spec.reference_baseline, 60)} | vs {md_inline(spec.reference_baseline, 60)} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    reference = baselines.get(spec.reference_baseline)
    for name, workload in best.evaluation.workloads.items():
        tag = md_inline(f"{name} (held out)" if workload.heldout else name, 80)
        theirs = (reference_by_workload or {}).get(name)
        gain = relative_improvement(workload.mean, theirs, metric)
        lines.append(
            f"| this design | {tag} | {workload.mean:.3f} | {workload.ci_low:.3f} – {workload.ci_high:.3f} "
            f"| {'—' if theirs is None else _number(theirs)} | {_percent(gain)} |"
        )
    gain = relative_improvement(best.evaluation.score, reference, metric)
    lines.append(
        f"| this design | score | {_number(best.evaluation.score)} | | {_number(reference)} | {_percent(gain)} |"
    )
    for router, score in baselines.items():
        marker = " (reference)" if router == spec.reference_baseline else ""
        lines.append(f"| {md_inline(router, 60)}{marker} | score | {_number(score)} | | | |")
    if caveats:
        lines += ["", "## What the record says about this design", "", *caveats]
    lines += ["", "## The Researcher's account (its own words; only the numbers above are Glia's)", ""]
    lines += summary_lines(finish_summary, end_reason)
    return "\n".join(lines).rstrip() + "\n"


def summary_lines(finish_summary: Any, end_reason: str | None) -> list[str]:
    """The finish summary as Markdown: a labelled fenced block, so nothing the Researcher wrote can read
    as a heading, a number or a sentence of Glia's (the fence is longer than any backtick run inside)."""
    if not finish_summary:
        why = f" (it ended with {md_code(end_reason, 80)})" if end_reason else ""
        return [
            f"This context did not finish with a summary{why}. The design above is its snapshot with the "
            "best trusted score; read the context's notes.md for its reasoning."
        ]
    return [f"**{ACCOUNT_LABEL}**", "", md_fence(account_text(finish_summary), "text", 20_000), ""]


def _output_names(design_files: tuple[str, ...]) -> dict[str, str]:
    """Design files go into best/ under their base name, or their full path if base names clash."""
    names = [Path(relpath).name for relpath in design_files]
    if len(set(names)) == len(names):
        return dict(zip(design_files, names, strict=True))
    return {relpath: relpath.replace("/", "__") for relpath in design_files}


def _number(value: float | None) -> str:
    return "invalid" if value is None else f"{value:.3f}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:+.1%}"
