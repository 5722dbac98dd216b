"""Read-only commands over run folders: `glia runs`, `glia show`, `glia report`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from glia.cli.common import add_root_option, console, resolve_run, workspaces_root
from glia.config import load_config
from glia.errors import GliaUsageError
from glia.metric import Metric
from glia.notes import render_notes, summary_text, write_run_notes
from glia.progress import shorten
from glia.record import events as ev
from glia.record.transcript import TranscriptFollower
from glia.record.view import ContextView, RunView, read_run
from glia.safe_text import console_text, md_fence, md_inline, md_prose

FOLLOW_POLL_S = 1.0
FOLLOW_THINKING_CHARS = 400  # the reasoning before an action, cut to a few lines in `show --follow`


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="list runs with status, strategy, best trusted score and budget used",
        description="One row per run folder under the workspaces root, oldest first.",
    )
    add_root_option(runs)
    runs.set_defaults(handler=list_runs)

    show = subparsers.add_parser(
        "show",
        help="read a run's research notes in the terminal",
        description="Render a context's research notes (from its transcript) as Markdown in the terminal.",
    )
    show.add_argument("run", metavar="RUN", help="run id under the workspaces root, or a run folder")
    show.add_argument("--context", "-c", type=int, metavar="K", help="which context (default: 1)")
    show.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep printing new events until the context ends (Ctrl-C stops)",
    )
    add_root_option(show)
    show.set_defaults(handler=show_notes)

    report = subparsers.add_parser(
        "report",
        help="write report.md and progress.png into a run folder",
        description=(
            "Scoreboard of contexts and baselines, the best design with its explanation, and a plot of the best "
            "score against simulations used. Works on finished, interrupted and running runs."
        ),
    )
    report.add_argument("run", metavar="RUN", help="run id under the workspaces root, or a run folder")
    add_root_option(report)
    report.set_defaults(handler=make_report)


def list_runs(args: argparse.Namespace) -> int:
    root = workspaces_root(args.root, load_config())
    out = console()
    folders = sorted(p for p in root.glob("*") if (p / "run.json").is_file()) if root.is_dir() else []
    if not folders:
        out.print(
            console_text(f"No runs under {root}. Start one with `glia solve tasks/llm_routing.md`.", 400)
        )
        return 0
    states = sorted(
        (read_run(folder) for folder in folders), key=lambda s: (str(s.doc.started or ""), s.run_id)
    )
    references = {state.reference_baseline()[0] for state in states}
    versus = f"vs {references.pop()}" if len(references) == 1 else "vs reference"
    table = Table(title=console_text(f"Runs under {root}", 300))
    for column, justify in (
        ("run", "left"),
        ("status", "left"),
        ("strategy", "left"),
        ("best trusted", "right"),
        (versus, "right"),
        ("simulations", "right"),
        ("dollars", "right"),
        ("note", "left"),
    ):
        table.add_column(console_text(column, 60), justify=justify)  # type: ignore[arg-type]
    for state in states:
        best, _ = state.best_trusted()
        gain = state.improvement_over_reference()
        totals = state.totals()
        table.add_row(
            console_text(state.run_id, 80),
            console_text(state.status, 40),
            console_text(state.strategy_label, 40),
            console_text(state.metric.format(best, 3), 40),
            "—" if gain is None else f"{gain:+.1%}",
            f"{totals['simulations']:.0f}",
            f"${totals['dollars']:.2f}",
            console_text(shorten(run_note(state), 90), 90),
        )
    out.print(table)
    return 0


def run_note(state: RunView) -> str:
    """Why a run is where it is: who is running it, that its process is gone, or why it failed."""
    status = state.status
    if status == "running" and state.lock.holder:
        return f"pid {state.lock.holder.get('pid')} on {state.lock.holder.get('host')}"
    if status == "interrupted":
        gone = "process gone; " if state.doc.status == "running" else ""
        return f"{gone}`glia resume {state.run_id}` continues it"
    if status == "failed":
        reasons = [_failure(ctx) for ctx in state.contexts if ctx.status != "pending"]
        return "; ".join(reasons) or state.doc.error or state.doc.no_best_reason or ""
    return ""


def _failure(ctx: ContextView) -> str:
    """Why a context of a failed run produced no design: how it ended, and its trusted verdict."""
    error = f" ({ctx.error})" if ctx.error else ""
    return f"{ctx.name}: {ctx.status}{error}; {ctx.verdict_text(3)}"


def _context_dir(run_dir: Path, context: int | None) -> Path:
    ctx_dir = run_dir / f"ctx-{context or 1}"
    if not ctx_dir.is_dir():
        existing = ", ".join(sorted(p.name.removeprefix("ctx-") for p in run_dir.glob("ctx-*"))) or "none yet"
        raise GliaUsageError(f"run {run_dir.name} has no context {context or 1}", f"contexts: {existing}")
    return ctx_dir


def show_notes(args: argparse.Namespace) -> int:
    run_dir = resolve_run(args.run, workspaces_root(args.root, load_config()))
    out = console()
    if not args.follow:
        ctx_dir = _context_dir(run_dir, args.context)
        out.print(Markdown(render_notes(ctx_dir)))
        return 0
    return follow_context(run_dir, args.context)


def follow_context(run_dir: Path, context: int | None, poll_s: float = FOLLOW_POLL_S) -> int:
    """Print the notes so far, then each new event as it lands; stop when the context or run ends."""
    out = console()
    ctx_dir = run_dir / f"ctx-{context or 1}"
    while not ctx_dir.is_dir():  # a run that has not reached this context yet
        if read_run(run_dir).finished:
            raise GliaUsageError(
                f"run {run_dir.name} ended without a context {context or 1}", "pick another --context"
            )
        time.sleep(poll_s)
    follower = TranscriptFollower(ctx_dir / "transcript.jsonl")
    follower.new_events()  # everything so far is in the notes printed next
    out.print(Markdown(render_notes(ctx_dir)))
    metric = read_run(run_dir).metric
    try:
        while True:
            for raw in follower.new_events():
                event = ev.parse_event(raw)
                text = event_markdown(event, metric)
                if text:
                    out.print(Markdown(text))
                if isinstance(event, ev.ContextEnded):
                    return 0
            if read_run(run_dir).finished:
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 0


def event_markdown(event: ev.Event, metric: Metric) -> str:
    """A compact rendering of one live event for `show --follow`: commands in code blocks (a heredoc
    keeps every line and character), numbers rounded, the Supervisor once, a submission as prose."""
    if isinstance(event, ev.AssistantTurn):
        # emphasis markers dropped (summaries open with a **bold** heading), cut to a few lines, then escaped
        reasoning = shorten(event.reasoning.replace("**", "").replace("__", ""), FOLLOW_THINKING_CHARS)
        thinking = f"💭 *{md_inline(reasoning, None)}*\n\n" if reasoning else ""
        commands = "\n\n".join(md_fence(c.command, "bash") for c in event.tool_calls if c.command)
        text = md_prose(event.text.strip(), 4000)
        return f"{thinking}**Researcher:** {text}\n\n{commands}".strip()
    if isinstance(event, ev.ToolResult):
        if event.name == ev.FINISH:
            return ""  # the Supervisor's review it carries is shown with the supervisor event
        output = "\n".join(event.output.rstrip().splitlines()[-5:])
        if event.recovered:
            status = "interrupted while running" if event.recovered == "interrupted" else "not run"
        elif event.timed_out:
            status = "timed out"
        else:
            status = f"exit {event.exit_code}"
        duration = f", {event.duration_s:.1f} s" if event.duration_s is not None else ""
        return f"*{status}{duration}*\n\n{md_fence(output) if output else ''}".strip()
    if isinstance(event, ev.SimulationEnded):
        kind = "claim" if event.kind == ev.CLAIM else "experiment (not ranked against claims)"
        if not event.valid:
            return f"### 🧪 Simulation {event.index} · {kind}: invalid ({md_inline(event.error, 200)})"
        value = event.claimed_score if event.kind == ev.CLAIM else (event.values or {}).get(metric.name)
        return f"### 🧪 Simulation {event.index} · {kind}: {metric.name} {metric.format(value, 3)}"
    if isinstance(event, ev.SupervisorSpoke):
        verdict = f", {md_inline(event.verdict, 20)}" if event.verdict else ""
        words = md_prose(event.text, 6000).replace("\n", "\n> ")
        return f"> **Supervisor ({md_inline(event.trigger, 20)}{verdict}):** {words}"
    if isinstance(event, ev.FinishCalled):
        state = {True: "accepted", False: "sent back"}.get(event.accepted, "submitted")  # type: ignore[arg-type]
        return f"## ✅ The Researcher submits ({state})\n\n{summary_text(event.summary)}"
    if isinstance(event, ev.ContextEnded):
        return f"## Context ended: {md_inline(event.reason, 200)}"
    if isinstance(event, ev.BudgetNote | ev.ErrorEvent | ev.FormatError):
        return f"> **{event.type}:** {md_inline(event.detail, 600)}"
    return ""


def make_report(args: argparse.Namespace) -> int:
    from glia.report import write_report  # matplotlib is only loaded when a report is drawn

    run_dir = resolve_run(args.run, workspaces_root(args.root, load_config()))
    write_run_notes(run_dir)
    report, plot = write_report(run_dir)
    state = read_run(run_dir)
    best, where = state.best_trusted()
    out = console()
    out.print(console_text(f"Wrote {report} and {plot}", 600))
    if best is not None:
        gain = state.improvement_over_reference()
        extra = (
            "" if gain is None else f", {gain:+.1%} over {console_text(state.reference_baseline()[0], 60)}"
        )
        out.print(
            Text.assemble(
                f"Best trusted score {state.metric.format(best, 3)}",
                console_text(f" ({where})" if where else "", 80),
                extra,
            )
        )
    return 0
