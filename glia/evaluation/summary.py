"""Reading one trusted simulation's outcome: its exit status and the `summary.json` it wrote.

Any doubt is a failure: a non-zero exit, a missing or unreadable summary, `valid: false`, unfinished
requests, or a non-finite score. The message is what the design's owner needs to fix it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from glia.evaluation.results import SeedResult
from glia.workspace.base import ExecResult

SEED_FIELDS = ("mean_e2e", "p90_e2e", "frac_restarted", "mean_scheduling_delay")


class SimulationFailed(Exception):
    """One simulation of the trusted evaluation failed; the message says why."""


def read_seed_result(experiment_dir: Path, seed: int, result: ExecResult) -> SeedResult:
    """The seed's scores, or SimulationFailed with the simulator's own error when there is one."""
    summary = _load_summary(experiment_dir)
    if summary is not None and summary.get("valid") is False:
        raise SimulationFailed(str(summary.get("error") or "the simulator marked the run invalid"))
    if result.exit_code != 0:
        raise SimulationFailed(f"exited with code {result.exit_code}: {_last_lines(result.output)}")
    if summary is None:
        raise SimulationFailed(f"no summary.json under {experiment_dir.name}: {_last_lines(result.output)}")
    if summary.get("valid") is not True:
        raise SimulationFailed(f"summary.json does not say valid: true (got {summary.get('valid')!r})")
    requests, completed = summary.get("num_requests"), summary.get("num_completed")
    if not isinstance(requests, int) or requests <= 0 or completed != requests:
        raise SimulationFailed(f"only {completed} of {requests} requests completed")
    values = {name: _number(summary, name) for name in SEED_FIELDS}
    return SeedResult(
        seed=seed,
        num_requests=requests,
        wall_time_s=float(summary.get("wall_time_s") or 0.0),
        **values,
    )


def _load_summary(experiment_dir: Path) -> dict[str, Any] | None:
    found = sorted(experiment_dir.glob("*/summary.json")) if experiment_dir.is_dir() else []
    if len(found) > 1:
        raise SimulationFailed(f"{len(found)} summary.json files under {experiment_dir.name}; expected one")
    if not found:
        return None
    try:
        data = json.loads(found[0].read_text())
    except (OSError, ValueError) as exc:
        raise SimulationFailed(f"unreadable summary.json ({exc})") from exc
    if not isinstance(data, dict):
        raise SimulationFailed("summary.json is not a JSON object")
    return data


def _number(summary: dict[str, Any], name: str) -> float:
    value = summary.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulationFailed(f"summary.json field {name!r} is not a finite number (got {value!r})")
    return float(value)


def _last_lines(output: str, count: int = 3) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) if lines else "(no output)"
