"""What each page shows, as plain data for its template: read through `glia.record` only.

A context page is the research notes rebuilt from the typed transcript events (never from notes.md):
per Researcher turn its reasoning, its words, its commands with their outputs folded, the simulations
each command ran (claims against experiments), and the Supervisor's interventions with their trigger,
linked to the Researcher's next turn. The design timeline lists every design a context benchmarked or
had judged, with the diff from the one before and its claims and trusted verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.record import events as ev
from glia.record.index import TranscriptIndex, TurnEvent
from glia.record.view import ContextView, RunView, Verdict
from glia.workspace.history import History, HistoryError

TURNS_PER_PAGE = 20
DESIGNS_PER_PAGE = 20
OUTPUT_SHOWN = 20_000  # characters of one command's output shown on the page (head and tail)
DIFF_SHOWN = 60_000


# ---------------------------------------------------------------------------------------- the runs


def run_row(state: RunView) -> dict[str, Any]:
    """One line of the runs list."""
    metric = state.metric
    score, where = state.best_trusted()
    totals, budgets = state.totals(), state.budgets()
    return {
        "id": state.run_id,
        "folder": state.run_dir.name,
        "status": state.status,
        "live": state.live,
        "strategy": state.strategy_label,
        "task": state.doc.task_title or state.doc.task_name,
        "best": metric.format(score) if score is not None else "—",
        "best_where": where,
        "gain": state.improvement_over_reference(),
        "reference": state.reference_baseline()[0],
        "simulations": _used(totals["simulations"], budgets["simulations"], 0),
        "dollars": _used(totals["dollars"], budgets["dollars"], 2, "$"),
        "started": state.doc.started or "",
    }


def _used(used: float, limit: float | None, digits: int, prefix: str = "") -> str:
    text = f"{prefix}{used:.{digits}f}"
    return text if limit is None else f"{text} / {prefix}{limit:.{digits}f}"


def context_row(state: RunView, ctx: ContextView) -> dict[str, Any]:
    """One column of the run page: a context at a glance."""
    metric = state.metric
    best = ctx.best_claim()
    experiments = len(ctx.experiments())
    return {
        "index": ctx.index,
        "name": ctx.name,
        "status": ctx.status,
        "turns": ctx.turns,
        "simulations": ctx.simulation_count,
        "experiments": experiments,
        "claim": metric.format(best.claimed_score) if best else "—",
        "verdict": ctx.verdict_text(),
        "dollars": f"${ctx.cost_usd:.2f}",
        "last": ctx.last_intervention,
        "command": ctx.last_command,
    }


def run_facts(state: RunView) -> dict[str, Any]:
    doc = state.doc
    score, where = state.best_trusted()
    return {
        "id": state.run_id,
        "folder": state.run_dir.name,
        "status": state.status_text(),
        "phase": state.phase(),
        "live": state.live,
        "strategy": doc.strategy_label,
        "task": doc.task_title or doc.task_name,
        "metric": doc.metric.describe(),
        "best": state.metric.format(score) if score is not None else "—",
        "best_where": where,
        "gain": state.improvement_over_reference(),
        "reference": state.reference_baseline()[0],
        "baselines": {k: state.metric.format(v) for k, v in sorted(state.baseline_scores().items())},
        "totals": run_row(state),
        "error": doc.error or doc.no_best_reason,
        "notes": list(doc.notes),
    }


# ------------------------------------------------------------------------------------ a context


@dataclass
class Item:
    """One thing that happened in a turn, ready for the template (`kind` picks its look)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    number: int
    items: list[Item] = field(default_factory=list)
    dollars: float = 0.0


def pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def page_of_turn(turn: int) -> int:
    return max(1, math.ceil(max(turn, 1) / TURNS_PER_PAGE))


def turns_of_page(index: TranscriptIndex, page: int, ctx: ContextView) -> list[Turn]:
    first = (page - 1) * TURNS_PER_PAGE + 1
    last = page * TURNS_PER_PAGE
    return build_turns(index.turn_events(first, last), ctx)


def build_turns(events: list[TurnEvent], ctx: ContextView) -> list[Turn]:
    turns: dict[int, Turn] = {}
    for item in events:
        turn = turns.setdefault(item.turn, Turn(item.turn))
        event = item.event
        if isinstance(event, ev.ModelCall):
            turn.dollars += event.cost_usd or 0.0
        shown = _item(event, item.turn, ctx)
        if shown is not None:
            turn.items.append(shown)
    return [turns[k] for k in sorted(turns)]


def _item(event: ev.Event, turn: int, ctx: ContextView) -> Item | None:
    if isinstance(event, ev.ContextStarted):
        return Item("start", {"task": event.task, "researcher": event.researcher_model,
                              "supervisor": event.supervisor_model, "strategy": event.strategy})  # fmt: skip
    if isinstance(event, ev.SessionStarted):
        return (
            Item("session", {"session": event.session, "resumed": event.resumed}) if event.resumed else None
        )
    if isinstance(event, ev.UserMessage):
        return Item("user", {"text": event.text, "brief": turn == 0})
    if isinstance(event, ev.AssistantTurn):
        calls = [{"id": c.id, "name": c.name, "command": c.command or _arguments(c.arguments), "error": c.error}
                 for c in event.tool_calls]  # fmt: skip
        return Item("assistant", {"reasoning": event.reasoning, "text": event.text, "calls": calls})
    if isinstance(event, ev.ToolResult):
        output = event.output
        omitted = 0
        if len(output) > OUTPUT_SHOWN:
            omitted = len(output) - OUTPUT_SHOWN
            output = output[: OUTPUT_SHOWN // 2] + "\n…\n" + output[-OUTPUT_SHOWN // 2 :]
        return Item("result", {"name": event.name, "command": event.command, "exit": event.exit_code,
                               "timed_out": event.timed_out, "duration": event.duration_s, "output": output,
                               "omitted": omitted, "lines": event.output.count("\n") + 1 if event.output else 0,
                               "recovered": event.recovered, "error": event.is_error})  # fmt: skip
    if isinstance(event, ev.SimulationEnded):
        sim = ctx.simulations.get(event.index)
        value = sim.value(ctx.metric) if sim else event.claimed_score
        return Item("simulation", {
            "index": event.index, "claim": (sim.kind if sim else event.kind) == ev.CLAIM, "valid": event.valid,
            "outcome": event.outcome, "error": event.error, "value": ctx.metric.format(value) if value is not None else "—",
            "conditions": sim.conditions_text() if sim else "", "snapshot": event.snapshot or (sim.snapshot if sim else None),
            "verdict": _verdict_text(ctx, event.snapshot or (sim.snapshot if sim else None)),
        })  # fmt: skip
    if isinstance(event, ev.SimulationRefused):
        return Item("note", {"label": "simulation refused", "text": event.reason})
    if isinstance(event, ev.SupervisorSpoke):
        return Item("supervisor", {"trigger": event.trigger, "verdict": event.verdict, "text": event.text,
                                   "next_turn": turn + 1, "at": event.at_simulation})  # fmt: skip
    if isinstance(event, ev.FinishCalled):
        summary = event.summary if isinstance(event.summary, dict) else {"summary": event.summary}
        return Item("finish", {"summary": {str(k): str(v) for k, v in summary.items()},
                               "accepted": event.accepted})  # fmt: skip
    if isinstance(event, ev.FormatError):
        return Item("note", {"label": "format error", "text": event.detail})
    if isinstance(event, ev.BudgetNote):
        return Item("note", {"label": "budget", "text": event.detail})
    if isinstance(event, ev.ErrorEvent):
        return Item("note", {"label": f"error ({event.agent or 'glia'})", "text": event.detail})
    if isinstance(event, ev.ContextEnded):
        return Item("end", {"reason": event.reason, "simulations": event.simulations, "cost": event.cost_usd})
    return None


def _arguments(arguments: Any) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in dict(arguments).items())


def _verdict_text(ctx: ContextView, sha: str | None) -> str | None:
    verdict = ctx.verdict_for(sha)
    return verdict.describe(ctx.metric) if verdict else None


# ------------------------------------------------------------------------------ the design timeline


@dataclass
class Design:
    sha: str
    number: int
    claims: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    turn: int | None = None
    diff: str | None = None
    diff_problem: str | None = None
    base: str | None = None
    from_template: bool = False


def designs_of(ctx: ContextView, index: TranscriptIndex) -> list[Design]:
    """Every design the context benchmarked (a claim) or had judged, in the order they first appeared."""
    found: dict[str, Design] = {}
    for sim in ctx.claims():
        if not sim.snapshot:
            continue
        design = found.setdefault(sim.snapshot, Design(sim.snapshot, len(found) + 1))
        design.turn = design.turn or index.sim_turns.get(sim.index)
        value = sim.claimed_score
        design.claims.append({"index": sim.index, "valid": sim.valid, "ended": sim.ended, "error": sim.error,
                              "value": ctx.metric.format(value) if value is not None else "—"})  # fmt: skip
    for verdict in ctx.verdicts:
        sha = verdict.entry.sha
        if sha:
            found.setdefault(sha, Design(sha, len(found) + 1)).verdicts.append(verdict)
    return list(found.values())


def add_diffs(designs: list[Design], all_designs: list[Design], history_dir: Path) -> None:
    """The diff of each design from the one before it (the first: from the template)."""
    try:
        history = History(history_dir)
        template = history.first_commit()
    except (HistoryError, OSError) as exc:
        for d in designs:
            d.diff_problem = f"no design history to read ({exc})"
        return
    known = set(history.commits())
    order = [d.sha for d in all_designs if d.sha in known]
    for design in designs:
        if design.sha not in known:
            design.diff_problem = "this snapshot is not in the context's design history"
            continue
        position = order.index(design.sha)
        design.base = order[position - 1] if position > 0 else template
        design.from_template = design.base == template
        try:
            text = history.diff(design.base, design.sha)
        except (HistoryError, KeyError, ValueError, OSError) as exc:
            design.diff_problem = f"diff unavailable: {exc}"
            continue
        design.diff = text if len(text) <= DIFF_SHOWN else text[:DIFF_SHOWN] + "\n… (diff cut here)\n"
