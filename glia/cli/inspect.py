"""Read-only commands over run folders: `glia runs`, `glia show`, `glia report`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.markdown import Markdown
from rich.table import Table

from glia.cli.common import add_root_option, console, resolve_run, workspaces_root
from glia.config import load_config
from glia.errors import GliaUsageError
from glia.notes import render_notes, write_run_notes
from glia.progress import TranscriptFollower, fmt, read_run

FOLLOW_POLL_S = 1.0


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
        out.print(f"No runs under {root}. Start one with `glia solve tasks/llm_routing.md`.")
        return 0
    states = sorted(
        (read_run(folder) for folder in folders), key=lambda s: (str(s.run.get("started") or ""), s.run_id)
    )
    references = {state.reference_baseline()[0] for state in states}
    versus = f"vs {references.pop()}" if len(references) == 1 else "vs reference"
    table = Table(title=f"Runs under {root}")
    for column, justify in (
        ("run", "left"),
        ("status", "left"),
        ("strategy", "left"),
        ("best trusted", "right"),
        (versus, "right"),
        ("simulations", "right"),
        ("dollars", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for state in states:
        best, _ = state.best_trusted()
        gain = state.improvement_over_reference()
        totals = state.totals()
        table.add_row(
            state.run_id,
            state.status,
            state.strategy_label,
            fmt(best, 3),
            "—" if gain is None else f"{gain:+.1%}",
            f"{totals['simulations']:.0f}",
            f"${totals['dollars']:.2f}",
        )
    out.print(table)
    return 0


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
    try:
        while True:
            for event in follower.new_events():
                out.print(Markdown(event_markdown(event)))
                if event.get("type") == "context_end":
                    return 0
            if read_run(run_dir).finished:
                return 0
            time.sleep(poll_s)
    except KeyboardInterrupt:
        return 0


def event_markdown(event: dict) -> str:
    """A compact rendering of one live event for `show --follow`."""
    kind = event.get("type")
    if kind == "assistant":
        calls = [
            c.get("arguments", {}).get("command")
            for c in event.get("tool_calls") or []
            if isinstance(c, dict)
        ]
        text = str(event.get("text") or event.get("reasoning") or "").strip()
        commands = "\n".join(f"    $ {c}" for c in calls if c)
        return f"**Researcher:** {text}\n\n{commands}".strip()
    if kind == "tool_result":
        output = str(event.get("output") or "").rstrip().splitlines()[-5:]
        tail = "\n".join(f"    {line}" for line in output)
        return f"*exit {event.get('exit_code')}, {event.get('duration_s', 0) or 0:.1f} s*\n\n{tail}".strip()
    if kind == "simulation":
        if event.get("valid") is False:
            return f"### 🧪 Simulation {event.get('index')}: invalid ({event.get('error')})"
        return f"### 🧪 Simulation {event.get('index')}: claimed {event.get('claimed_score')}"
    if kind == "supervisor":
        return f"> **Supervisor ({event.get('trigger')}):** {event.get('text')}"
    if kind == "finish":
        return f"## ✅ Finish\n\n{event.get('summary')}"
    if kind == "context_end":
        return f"## Context ended: {event.get('reason')}"
    if kind in ("budget", "error", "format_error"):
        return f"> **{kind}:** {event.get('detail')}"
    return ""


def make_report(args: argparse.Namespace) -> int:
    from glia.report import write_report  # matplotlib is only loaded when a report is drawn

    run_dir = resolve_run(args.run, workspaces_root(args.root, load_config()))
    write_run_notes(run_dir)
    report, plot = write_report(run_dir)
    state = read_run(run_dir)
    best, where = state.best_trusted()
    out = console()
    out.print(f"Wrote {report} and {plot}")
    if best is not None:
        gain = state.improvement_over_reference()
        extra = "" if gain is None else f", {gain:+.1%} over {state.reference_baseline()[0]}"
        out.print(f"Best trusted score {best:.3f}{f' ({where})' if where else ''}{extra}")
    return 0
