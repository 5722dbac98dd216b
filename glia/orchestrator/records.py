"""The shape of run.json as the orchestrator builds it: the first record, context entries, the
progress timeline. Reading and writing the file is `glia.run_store`'s job; its docstring lists the keys.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from glia.orchestrator.config import RunConfig
from glia.task import Task


def initial_record(config: RunConfig, task: Task) -> dict[str, Any]:
    """run.json of a prepared run: everything known before any work (MCG-Seq adds contexts as it goes)."""
    count = 0 if config.strategy == "mcg-seq" else config.contexts
    target = config.target_improvement
    return {
        "version": 1,
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
            "metric": {
                "name": task.metric.name,
                "direction": task.metric.direction,
                "unit": task.metric.unit,
                "lower_is_better": task.metric.direction == "minimize",
            },
        },
        "started": now_iso(),
        "ended": None,
        "budgets": dataclasses.asdict(config.budgets),
        "usage": {
            "simulations": 0,
            "dollars": 0.0,
            "tokens": 0,
            "wall_time_s": 0.0,
            "minutes": 0.0,
            "cost_known": True,
            "unpriced_calls": 0,
        },  # fmt: skip
        "reference_baseline": task.evaluation.reference_baseline,
        "target_improvement": target if target is not None else task.defaults.target_improvement,
        "baselines": {},
        "contexts": [pending_context(k) for k in range(1, count + 1)],
        "best": None,
        "timeline": [],
        "notes": [],
        "error": None,
    }


def pending_context(index: int) -> dict[str, Any]:
    """The entry of a context that has not started; every key the entry will ever have is present."""
    return {
        "context": index,
        "name": f"ctx-{index}",
        "status": "pending",
        "end_reason": None,
        "error": None,
        "started": None,
        "ended": None,
        "steps": 0,
        "simulations": 0,
        "cost_usd": 0.0,
        "tokens": 0,
        "best_claimed": None,
        "best_claimed_sha": None,
        "best_trusted": None,
        "final_snapshot": None,
        "judged": False,
        "trusted": [],
        "evaluation_problems": [],
        "run_totals": [],
        "outcome": None,
    }


def context_entry(data: dict[str, Any], index: int) -> dict[str, Any]:
    for entry in data["contexts"]:
        if entry["context"] == index:
            return entry
    raise KeyError(f"run.json has no context {index}")


def set_context(data: dict[str, Any], index: int, **fields: Any) -> None:
    context_entry(data, index).update(fields)


def add_timeline(data: dict[str, Any], points: list[dict[str, Any]]) -> None:
    """Append progress-plot points, skipping ones already there (a resumed context repeats its past)."""
    timeline = data.setdefault("timeline", [])
    seen = {(p["context"], p["kind"], p.get("sha"), p.get("label")) for p in timeline}
    for point in points:
        key = (point["context"], point["kind"], point.get("sha"), point.get("label"))
        if key not in seen:
            timeline.append(point)
            seen.add(key)
    timeline.sort(key=lambda p: (p["simulations"] is None, p["simulations"] or 0))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
