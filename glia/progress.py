"""What a run is doing right now, shown live (a table on a terminal) or line by line (logs, CI).

The view is driven only by the run folder, read through the one reader (`glia.record.view.read_run`),
so the same code follows a run started in this process, a run in another terminal and
`glia show --follow`, and it never couples the orchestrator to the terminal.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from glia.record.view import ContextView, RunView, read_run
from glia.safe_text import console_plain, console_text

__all__ = [
    "LiveProgress",
    "PlainProgress",
    "RunWatcher",
    "context_line",
    "fmt",
    "make_display",
    "progress_table",
    "read_run",
    "shorten",
    "totals_line",
]


def shorten(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when cut."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_budget(used: float, limit: float | None, digits: int = 0, prefix: str = "") -> str:
    used_text = f"{prefix}{used:.{digits}f}"
    return used_text if limit is None else f"{used_text} / {prefix}{limit:.{digits}f}"


def simulations_cell(ctx: ContextView) -> str:
    """`5`, or `5 (2 experiments)` when some runs were not benchmark runs under the task's conditions."""
    count = ctx.simulation_count
    experiments = len(ctx.experiments())
    if not experiments:
        return str(count)
    return f"{count} ({experiments} experiment{'s' if experiments != 1 else ''})"


def best_claim_cell(ctx: ContextView, digits: int = 2) -> str:
    best = ctx.best_claim()
    return ctx.metric.format(best.claimed_score if best else None, digits)


def node_cell(ctx: ContextView) -> str:
    """Where a context's sandbox runs on a cluster: the node's address, and how often it moved."""
    node = (ctx.entry.node if ctx.entry else None) or {}
    where = str(node.get("ip") or node.get("host") or str(node.get("node_id") or "")[:12])
    moved = node.get("replaced")
    return f"{where} (moved {moved}x)" if where and isinstance(moved, int) and moved > 0 else where


def progress_table(state: RunView) -> Table:
    """The live table: one row per context, budgets in the caption; a node column on a cluster."""
    title = console_text(f"Glia run {state.run_id} · {state.strategy_label} · {state.phase()}", 200)
    table = Table(title=title, expand=False)
    on_cluster = any(node_cell(ctx) for ctx in state.contexts)
    for column, justify in (
        ("context", "left"),
        *((("node", "left"),) if on_cluster else ()),
        ("status", "left"),
        ("turn", "right"),
        ("sims", "right"),
        ("best claim", "right"),
        ("trusted", "right"),
        ("$", "right"),
        ("last action", "left"),
        ("supervisor", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for ctx in state.contexts:
        table.add_row(
            console_text(ctx.name, 40),
            *((console_text(node_cell(ctx), 40),) if on_cluster else ()),
            console_text(ctx.status, 40),
            str(ctx.turns),
            console_text(simulations_cell(ctx), 40),
            console_text(best_claim_cell(ctx), 40),
            console_text(shorten(ctx.verdict_text(2), 40), 40),
            f"{ctx.cost_usd:.2f}",
            console_text(shorten(ctx.last_command, 40), 40),
            console_text(shorten(ctx.last_intervention, 40), 40),
        )
    table.caption = console_text(totals_line(state), 200)
    return table


def totals_line(state: RunView) -> str:
    totals, limits = state.totals(), state.budgets()
    return (
        f"simulations {fmt_budget(totals['simulations'], limits['simulations'])} · "
        f"dollars {fmt_budget(totals['dollars'], limits['dollars'], 2, '$')} · "
        f"minutes {fmt_budget(totals['minutes'], limits['minutes'], 1)}"
    )


def context_line(ctx: ContextView) -> str:
    """One plain line per context change, for logs and CI where a live table would be noise."""
    node = node_cell(ctx)
    parts = [
        f"{ctx.name}{f' on {node}' if node else ''}: {ctx.status}",
        f"turn {ctx.turns}",
        f"sims {simulations_cell(ctx)}",
        f"best claim {best_claim_cell(ctx)}",
        f"trusted {shorten(ctx.verdict_text(2), 60)}",
        f"${ctx.cost_usd:.2f}",
    ]
    if ctx.last_command:
        parts.append(f"last: {shorten(ctx.last_command, 60)}")
    return " | ".join(parts)


class PlainProgress:
    """Line-by-line output: prints a context's line only when something in it changed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last: dict[str, str] = {}

    def update(self, state: RunView) -> None:
        phase = f"run {state.run_id}: {state.phase()}"
        if self._last.get("") != phase:
            self._last[""] = phase
            print(console_plain(phase, 300), file=self.stream, flush=True)
        for ctx in state.contexts:
            line = context_line(ctx)
            if self._last.get(ctx.name) != line:
                self._last[ctx.name] = line
                print(console_plain(line, 600), file=self.stream, flush=True)

    def close(self, state: RunView) -> None:
        self.update(state)
        print(console_plain(totals_line(state), 300), file=self.stream, flush=True)


class LiveProgress:
    """A rich Live table redrawn from the run folder on every poll."""

    def __init__(self, console: Console) -> None:
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, state: RunView) -> None:
        self._live.update(progress_table(state), refresh=True)

    def close(self, state: RunView) -> None:
        self.update(state)
        self._live.stop()


def make_display(
    console: Console | None = None, stream: TextIO | None = None
) -> PlainProgress | LiveProgress:
    """A live table on a terminal, plain lines otherwise (CI, pipes, log files)."""
    console = console or Console(file=stream or sys.stdout)
    if console.is_terminal:
        return LiveProgress(console)
    return PlainProgress(stream or console.file)


class RunWatcher:
    """Redraws `display` from the run folder every `interval_s` on a background thread.

    The run itself keeps the main thread (where Ctrl-C arrives); the watcher only reads files, so it can
    never disturb the run, and a failure to draw is swallowed rather than ending the research.
    """

    def __init__(self, run_dir: Path, display: PlainProgress | LiveProgress, interval_s: float = 1.0) -> None:
        self.run_dir = Path(run_dir)
        self.display = display
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="glia-progress", daemon=True)

    def __enter__(self) -> RunWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> RunView:
        """Stop polling and draw the final state once."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5 * self.interval_s + 1)
        state = read_run(self.run_dir)
        self.display.close(state)
        return state

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.display.update(read_run(self.run_dir))
            except Exception:  # drawing is best effort; the run matters more
                continue
