"""The run's answer on disk: `best/` holds the chosen design, its trusted evaluation, why it works and
what it changed. Rewritten whenever a better trusted design appears, so an interrupted run still has one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from glia.orchestrator.trusted import Candidate
from glia.run_store import BEST_DIR, EVALUATIONS_DIR, context_dir, write_json_atomic
from glia.task import Task
from glia.workspace.repo import diff, first_commit, read_file_at


def relative_improvement(score: float | None, reference: float | None, direction: str) -> float | None:
    """How much better `score` is than `reference`, as a fraction of the reference (positive = better)."""
    if score is None or reference is None or reference == 0:
        return None
    gain = (reference - score) if direction == "minimize" else (score - reference)
    return gain / abs(reference)


def write_best(
    run_dir: Path,
    task: Task,
    best: Candidate,
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

    repo = context_dir(run_dir, best.context) / "repo"
    for relpath, name in _output_names(task.design_files).items():
        (staging / name).write_text(read_file_at(repo, best.sha, relpath), encoding="utf-8")
    write_json_atomic(staging / "evaluation.json", best.evaluation.to_dict())
    patch = diff(repo, first_commit(repo), best.sha, list(task.design_files))
    (staging / "design.diff").write_text(patch + ("\n" if patch else ""), encoding="utf-8")
    reference = reference_workload_means(run_dir, task.evaluation.reference_baseline)
    (staging / "explanation.md").write_text(
        explanation(task, best, baselines, finish_summary, end_reason, reference), encoding="utf-8"
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


def explanation(
    task: Task,
    best: Candidate,
    baselines: dict[str, float | None],
    finish_summary: dict[str, Any] | None,
    end_reason: str | None,
    reference_by_workload: dict[str, float] | None = None,
) -> str:
    """explanation.md: trusted numbers against the baselines, then the Researcher's own account.

    Every workload row, held-out ones included, is compared with the reference baseline on the same
    workload, so a design that only wins where it was tuned shows it.
    """
    metric, spec = task.metric, task.evaluation
    unit = f" ({metric.unit})" if metric.unit else ""
    lines = [
        f"# Best design: context {best.context}, {best.label} snapshot `{best.sha[:12]}`",
        "",
        f"Task `{task.name}`. Chosen by trusted re-evaluation ({metric.direction} `{metric.name}`), "
        "not by the score the context reported.",
        "",
        "## Trusted evaluation",
        "",
        f"| design | workload | {metric.name}{unit} | 90% CI | {spec.reference_baseline} | vs {spec.reference_baseline} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    reference = baselines.get(spec.reference_baseline)
    for name, workload in best.evaluation.workloads.items():
        tag = f"{name} (held out)" if workload.heldout else name
        theirs = (reference_by_workload or {}).get(name)
        gain = relative_improvement(workload.mean, theirs, metric.direction)
        lines.append(
            f"| this design | {tag} | {workload.mean:.3f} | {workload.ci_low:.3f} – {workload.ci_high:.3f} "
            f"| {'—' if theirs is None else _number(theirs)} | {_percent(gain)} |"
        )
    gain = relative_improvement(best.evaluation.score, reference, metric.direction)
    lines.append(
        f"| this design | score | {_number(best.evaluation.score)} | | {_number(reference)} | {_percent(gain)} |"
    )
    for router, score in baselines.items():
        marker = " (reference)" if router == spec.reference_baseline else ""
        lines.append(f"| {router}{marker} | score | {_number(score)} | | | |")
    lines += ["", "## The Researcher's account", ""]
    lines += _summary_lines(finish_summary, end_reason)
    return "\n".join(lines).rstrip() + "\n"


def _summary_lines(finish_summary: dict[str, Any] | None, end_reason: str | None) -> list[str]:
    if not finish_summary:
        why = f" (it ended with '{end_reason}')" if end_reason else ""
        return [
            f"This context did not finish with a summary{why}. The design above is its snapshot with the "
            "best trusted score; read the context's notes.md for its reasoning."
        ]
    lines: list[str] = []
    for key, value in finish_summary.items():
        if value in (None, "", [], {}):
            continue
        lines += [f"### {key.replace('_', ' ').capitalize()}", "", _as_text(value), ""]
    return lines


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(f"- {_as_text(item)}" for item in value)
    return json.dumps(value, indent=2, default=str)


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
