"""Recovery after an unclean stop (kill -9, a power cut): run.json is corrected from the durable record.

run.json is saved at moments (a simulation, a context's end); the transcripts are written and fsync'd as
things happen. So after a process died, the transcripts are the truth: each `model_call` holds what the
provider billed for one call (dollars, tokens, or an unknown price), each `simulation_started` one
simulation the budget granted and the simulator was allowed to run (with the run's count at that
moment). `reconcile` puts those sums into the context entries and the run's usage, extends the wall time
to the last durable activity, and says what it changed (run.json `recovered`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from glia.record import events as ev
from glia.record.transcript import TRANSCRIPT_FILE, read_events
from glia.run_store import RUN_FILE, load_run, save_run


@dataclass
class ContextTally:
    """What one transcript says was spent."""

    model_calls: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    unpriced_calls: int = 0
    steps: int = 0
    run_totals: list[int] = field(default_factory=list)
    started: int = 0  # simulations granted (simulation_started events)
    last_ts: datetime | None = None


def tally(events: Iterable[Mapping[str, Any]]) -> ContextTally:
    counted = ContextTally()
    for raw in events:
        event = ev.parse_event(raw)
        if isinstance(event, ev.ModelCall):
            counted.model_calls += 1
            counted.tokens += event.tokens
            if event.cost_usd is None:
                counted.unpriced_calls += 1
            else:
                counted.cost_usd += event.cost_usd
        elif isinstance(event, ev.AssistantTurn) and event.tool_calls is not None:
            counted.steps += 1
        elif isinstance(event, ev.SimulationStarted):
            counted.started += 1
            if event.run_total is not None:
                counted.run_totals.append(event.run_total)
        when = _parse_ts(event.ts)
        if when is not None and (counted.last_ts is None or when > counted.last_ts):
            counted.last_ts = when
    return counted


def reconcile_run(run_dir: Path) -> list[str]:
    """Correct a run folder's run.json from its transcripts, saving it only when something changed;
    returns what changed, in words (see `reconcile`)."""
    data = load_run(run_dir)
    changes = reconcile(run_dir, data)
    if changes:
        save_run(run_dir, data)
    return changes


def reconcile(run_dir: Path, data: dict[str, Any]) -> list[str]:
    """Correct `data` (a run.json object) from the run's transcripts; returns what changed, in words.

    A context whose transcript records no model calls (or no simulations) keeps run.json's numbers for
    them: there is nothing more durable to go by.
    """
    run_dir = Path(run_dir)
    changes: list[str] = []
    usage = data.setdefault("usage", {})
    dollars = tokens = unpriced = simulations = 0.0
    last_activity: datetime | None = None
    for entry in data.get("contexts") or []:
        index = entry.get("context")
        counted = tally(read_events(run_dir / f"ctx-{index}" / TRANSCRIPT_FILE))
        if counted.model_calls:
            _correct(
                entry, "cost_usd", round(counted.cost_usd, 6), f"ctx-{index}: dollars", changes, money=True
            )
            _correct(entry, "tokens", counted.tokens, f"ctx-{index}: tokens", changes)
            if counted.steps > int(entry.get("steps") or 0):
                entry["steps"] = counted.steps
        if counted.started:
            _correct(entry, "simulations", counted.started, f"ctx-{index}: simulations", changes)
            if len(counted.run_totals) == counted.started:
                entry["run_totals"] = sorted(counted.run_totals)
        dollars += float(entry.get("cost_usd") or 0.0)
        tokens += int(entry.get("tokens") or 0)
        unpriced += counted.unpriced_calls
        simulations += int(entry.get("simulations") or 0)
        if counted.last_ts is not None and (last_activity is None or counted.last_ts > last_activity):
            last_activity = counted.last_ts
    if data.get("contexts"):
        _correct(usage, "dollars", round(dollars, 6), "run: dollars", changes, money=True)
        _correct(usage, "tokens", int(tokens), "run: tokens", changes)
        _correct(usage, "simulations", int(simulations), "run: simulations", changes)
        if unpriced > int(usage.get("unpriced_calls") or 0):
            usage["unpriced_calls"] = int(unpriced)
            usage["cost_known"] = False
    _extend_wall_time(run_dir, usage, last_activity, changes)
    if changes:
        data.setdefault("recovered", []).append("recovered from the transcripts: " + "; ".join(changes))
    return changes


def _correct(
    holder: dict[str, Any], key: str, value: float | int, what: str, changes: list[str], money: bool = False
) -> None:
    before = holder.get(key)
    if before == value or (isinstance(before, int | float) and abs(float(before) - float(value)) < 1e-9):
        return
    holder[key] = value
    if money:
        changes.append(f"{what} ${float(before or 0):.4f} -> ${float(value):.4f}")
    else:
        changes.append(f"{what} {before} -> {value}")


def _extend_wall_time(
    run_dir: Path, usage: dict[str, Any], last_activity: datetime | None, changes: list[str]
) -> None:
    """run.json's wall time was measured when it was last saved; the run went on until its last event."""
    if last_activity is None:
        return
    try:
        saved_at = datetime.fromtimestamp(os.stat(run_dir / RUN_FILE).st_mtime, tz=last_activity.tzinfo)
    except OSError:
        return
    extra = (last_activity - saved_at).total_seconds()
    if extra > 1.0:
        before = float(usage.get("wall_time_s") or 0.0)
        usage["wall_time_s"] = round(before + extra, 3)
        usage["minutes"] = round(usage["wall_time_s"] / 60.0, 3)
        changes.append(f"run: wall time {before:.0f} s -> {usage['wall_time_s']:.0f} s")


def _parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None
