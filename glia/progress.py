"""What a run is doing right now, read from its folder, shown live or line by line.

The view is driven only by files (run.json and each context's transcript.jsonl, polled), so the same
code follows a run started in this process, a run in another terminal and `glia show --follow`, and it
never couples the orchestrator to the terminal.
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

TERMINAL_STATUSES = {"finished", "interrupted", "failed"}


# ---------------------------------------------------------------------------------------------------
# Reading the run folder
# ---------------------------------------------------------------------------------------------------


def load_json(path: Path) -> dict[str, Any]:
    """A JSON object from disk, or {} when the file is missing, half-written or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def iter_events(path: Path) -> Iterator[dict[str, Any]]:
    """Transcript events in order, skipping blank, torn or non-object lines (a live file may end mid-line)."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError:
        return
    with handle:
        for line in handle:
            event = _parse_line(line)
            if event is not None:
                yield event


def _parse_line(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


class TranscriptFollower:
    """Reads only the complete lines appended since the last call, so polling a long transcript is cheap."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def new_events(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return []
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        text = chunk[:complete].decode("utf-8", errors="replace")
        return [event for line in text.splitlines() if (event := _parse_line(line)) is not None]


def as_number(value: Any) -> float | None:
    """A finite float from a JSON value, or None (scores may be null, strings or NaN in odd events)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def evaluation_score(evaluation: dict[str, Any]) -> float | None:
    """The trusted score of one evaluation record, whatever name the evaluator gave the mean."""
    for key in ("trusted_score", "score", "mean", "mean_score"):
        if key in evaluation and (number := as_number(evaluation[key])) is not None:
            return number
    return None


def primary_workload(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The first non-held-out workload record of an evaluation (it gives the primary score), or {}."""
    workloads = evaluation.get("workloads")
    if not isinstance(workloads, dict):
        return {}
    records = [w for w in workloads.values() if isinstance(w, dict)]
    main = [w for w in records if not w.get("heldout")]
    return (main or records or [{}])[0]


def evaluation_interval(evaluation: dict[str, Any]) -> tuple[float, float] | None:
    """The (low, high) 90% confidence interval of an evaluation's primary score, if it has one."""
    for holder in (evaluation, primary_workload(evaluation)):
        ci = holder.get("ci") or holder.get("ci90")
        if isinstance(ci, list | tuple) and len(ci) == 2:
            low, high = as_number(ci[0]), as_number(ci[1])
        else:
            low, high = as_number(holder.get("ci_low")), as_number(holder.get("ci_high"))
        if low is not None and high is not None:
            return low, high
    return None


def evaluation_is_valid(evaluation: dict[str, Any]) -> bool:
    """An evaluation counts only if the evaluator did not mark it invalid."""
    return evaluation.get("valid", True) is not False


def lower_is_better(run: dict[str, Any]) -> bool:
    """Whether smaller scores win in this run (mean latency: yes), from run.json, defaulting to yes."""
    for holder in (run, run.get("task") or {}, run.get("config") or {}):
        if not isinstance(holder, dict):
            continue
        if isinstance(holder.get("lower_is_better"), bool):
            return holder["lower_is_better"]
        metric = holder.get("metric")
        if isinstance(metric, dict):
            if isinstance(metric.get("lower_is_better"), bool):
                return metric["lower_is_better"]
            goal = str(metric.get("goal") or metric.get("direction") or "").lower()
            if goal in {"max", "maximize", "higher"}:
                return False
            if goal in {"min", "minimize", "lower"}:
                return True
    return True


def better(candidate: float | None, incumbent: float | None, lower: bool) -> bool:
    """True when `candidate` beats `incumbent` under the run's direction (None never wins)."""
    if candidate is None:
        return False
    if incumbent is None:
        return True
    return candidate < incumbent if lower else candidate > incumbent


def improvement(score: float | None, reference: float | None, lower: bool) -> float | None:
    """Fractional improvement of `score` over `reference` (0.25 = 25% better), None if unknown."""
    if score is None or reference is None or reference == 0:
        return None
    gain = (reference - score) if lower else (score - reference)
    return gain / abs(reference)


def shorten(text: str, width: int) -> str:
    """One line of at most `width` characters, with an ellipsis when cut."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


@dataclass
class ContextState:
    """Everything the live view and the report need about one context, folded from its transcript."""

    name: str
    lower_is_better: bool = True
    status: str = "waiting"
    turns: int = 0
    simulations: int = 0
    best_claimed: float | None = None
    best_trusted: float | None = None
    cost_usd: float = 0.0
    last_command: str = ""
    last_intervention: str = ""
    end_reason: str | None = None
    final_snapshot: str | None = None
    ended: bool = False
    claimed_points: list[tuple[int, float]] = field(default_factory=list)
    snapshots: list[tuple[int, str]] = field(default_factory=list)
    run_totals: list[int] = field(default_factory=list)

    def run_axis(self, simulation: int, offset: int = 0) -> int:
        """The run's simulation count at this context's `simulation`-th run (shared-budget x axis)."""
        if 1 <= simulation <= len(self.run_totals):
            return self.run_totals[simulation - 1]
        return simulation + offset

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one transcript event into the state; unknown or malformed events change nothing."""
        kind = event.get("type")
        if kind == "context_start":
            self.status = "running"
        elif kind == "assistant":
            self.turns += 1
            self.status = "running"
        elif kind == "model_call":
            self.cost_usd += as_number(event.get("cost_usd")) or 0.0
        elif kind == "tool_result":
            command = event.get("command") or event.get("name") or ""
            self.last_command = str(command)
        elif kind == "simulation":
            self._apply_simulation(event)
        elif kind == "supervisor":
            trigger = event.get("trigger") or "?"
            self.last_intervention = f"{trigger}: {event.get('text') or ''}"
        elif kind == "context_end":
            self.ended = True
            self.end_reason = str(event.get("reason") or "ended")
            self.status = self.end_reason
            self.final_snapshot = event.get("final_snapshot") or self.final_snapshot
            if (cost := as_number(event.get("cost_usd"))) is not None:
                self.cost_usd = max(self.cost_usd, cost)

    def _apply_simulation(self, event: dict[str, Any]) -> None:
        index = event.get("index")
        self.simulations = index if isinstance(index, int) and index > 0 else self.simulations + 1
        claimed = as_number(event.get("claimed_score"))
        counts = event.get("valid", True) is not False and event.get("design_run", True) is not False
        if counts and better(claimed, self.best_claimed, self.lower_is_better):
            self.best_claimed = claimed
        if self.best_claimed is not None:
            self.claimed_points.append((self.simulations, self.best_claimed))
        if isinstance(event.get("snapshot"), str):
            self.snapshots.append((self.simulations, event["snapshot"]))


@dataclass
class RunState:
    """A run folder at one moment: run.json plus the folded state of every context."""

    run_dir: Path
    run: dict[str, Any]
    contexts: list[ContextState]
    lower_is_better: bool = True

    @property
    def run_id(self) -> str:
        return str(self.run.get("run_id") or self.run_dir.name)

    @property
    def status(self) -> str:
        return str(self.run.get("status") or "unknown")

    @property
    def strategy_label(self) -> str:
        label = self.run.get("strategy_label") or self.run.get("strategy")
        if label:
            return str(label)
        config = self.run.get("config") or {}
        return str(config.get("strategy_label") or config.get("strategy") or "?")

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def phase(self) -> str:
        """What the run as a whole is doing, for the line above the contexts."""
        if self.status != "running":
            return self.status
        baselines = self.baseline_scores()
        if not baselines:
            return "measuring baselines"
        scores = ", ".join(f"{name} {score:.2f}" for name, score in sorted(baselines.items()))
        if self.contexts and all(c.ended for c in self.contexts):
            return f"evaluating designs (baselines: {scores})"
        return f"researching (baselines: {scores})"

    def totals(self) -> dict[str, float]:
        """Simulations, dollars and minutes used so far (run.json when it says, else from transcripts)."""
        usage = _mapping(self.run.get("usage"))
        simulations = as_number(usage.get("simulations"))
        dollars = as_number(usage.get("dollars"))
        seconds = as_number(usage.get("wall_time_s"))
        return {
            "simulations": simulations
            if simulations is not None
            else float(sum(c.simulations for c in self.contexts)),
            "dollars": dollars if dollars is not None else sum(c.cost_usd for c in self.contexts),
            "minutes": seconds / 60 if seconds is not None else 0.0,
        }

    def budgets(self) -> dict[str, float | None]:
        """The run's limits (run.json `budgets`, or the config's); None where a limit is unset."""
        config = _mapping(self.run.get("config"))
        limits = _mapping(self.run.get("budgets")) or _mapping(config.get("budgets"))
        seconds = as_number(limits.get("wall_time_s"))
        return {
            "simulations": as_number(limits.get("simulations")),
            "dollars": as_number(limits.get("dollars")),
            "minutes": seconds / 60 if seconds is not None else as_number(limits.get("wall_time_min")),
        }

    def best_trusted(self) -> tuple[float | None, str | None]:
        """The best trusted score of the run and which context earned it (the orchestrator's choice
        in run.json `best` when it made one, else the best over the contexts)."""
        chosen = _mapping(self.run.get("best"))
        if (score := as_number(chosen.get("score"))) is not None:
            context = chosen.get("context")
            return score, (f"ctx-{context}" if context is not None else None)
        best_score, best_name = None, None
        for ctx in self.contexts:
            if better(ctx.best_trusted, best_score, self.lower_is_better):
                best_score, best_name = ctx.best_trusted, ctx.name
        return best_score, best_name

    def baseline_scores(self) -> dict[str, float]:
        """Trusted baseline scores by router name (run.json's `baselines` or evaluations/<router>.json)."""
        scores: dict[str, float] = {}
        recorded = self.run.get("baselines")
        if isinstance(recorded, dict):
            for name, value in recorded.items():
                score = evaluation_score(value) if isinstance(value, dict) else as_number(value)
                if score is not None:
                    scores[str(name)] = score
        for name in ("llq", "lor", "round_robin", "random"):
            if name in scores:
                continue
            record = load_json(self.run_dir / "evaluations" / f"{name}.json")
            if record and evaluation_is_valid(record) and (score := evaluation_score(record)) is not None:
                scores[name] = score
        return scores

    def timeline(self, context: str, kind: str) -> list[tuple[int, float]]:
        """run.json's progress points (run-level simulation count, score) for one context and kind."""
        points = []
        for point in self.run.get("timeline") or []:
            if not isinstance(point, dict) or point.get("kind") != kind or point.get("valid") is False:
                continue
            if f"ctx-{point.get('context')}" != context:
                continue
            x, y = point.get("simulations"), as_number(point.get("score"))
            if isinstance(x, int) and y is not None:
                points.append((x, y))
        return sorted(points)

    def reference_baseline(self) -> tuple[str, float | None]:
        """The baseline improvements are measured against (the task's reference: LLQ for routing)."""
        name = str(self.run.get("reference_baseline") or "llq")
        return name, self.baseline_scores().get(name)

    def improvement_over_reference(self) -> float | None:
        return improvement(self.best_trusted()[0], self.reference_baseline()[1], self.lower_is_better)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def context_dirs(run_dir: Path) -> list[Path]:
    """ctx-<k> folders in numeric order."""

    def order(path: Path) -> tuple[int, str]:
        suffix = path.name.removeprefix("ctx-")
        return (int(suffix), "") if suffix.isdigit() else (10**9, suffix)

    return sorted((p for p in run_dir.glob("ctx-*") if p.is_dir()), key=order)


def context_records(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """run.json's per-context records keyed by folder name, whether stored as a list or a mapping."""
    raw = run.get("contexts")
    records: dict[str, dict[str, Any]] = {}
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [(None, item) for item in raw]
    else:
        return records
    for key, item in items:
        if not isinstance(item, dict):
            continue
        ident = next((item[k] for k in ("name", "id", "index", "context") if item.get(k) is not None), key)
        name = str(ident) if str(ident).startswith("ctx-") else f"ctx-{ident}"
        records[name] = item
    return records


def _apply_record(ctx: ContextState, record: dict[str, Any], run_dir: Path) -> None:
    """Let run.json's per-context facts (status, trusted score) override what the transcript implies."""
    status = record.get("status")
    if isinstance(status, str) and status and not ctx.ended:
        ctx.status = status
    if record.get("end_reason"):
        ctx.end_reason = str(record["end_reason"])
        ctx.status = ctx.end_reason
    for key in ("best_trusted", "trusted_score"):
        if (score := as_number(record.get(key))) is not None:
            ctx.best_trusted = score
    if isinstance(record.get("final_snapshot"), str):
        ctx.final_snapshot = record["final_snapshot"]
    totals = record.get("run_totals")
    if isinstance(totals, list) and all(isinstance(t, int) for t in totals):
        ctx.run_totals = list(totals)


def unwrap_evaluation(record: dict[str, Any]) -> dict[str, Any]:
    """A context's evaluation file wraps the evaluator's record with where the design came from;
    flatten it so scores and intervals read the same as a baseline's."""
    inner = record.get("evaluation")
    if not isinstance(inner, dict):
        return record
    outer = {key: value for key, value in record.items() if key != "evaluation"}
    return {**inner, **{key: value for key, value in outer.items() if key not in inner or key == "label"}}


def context_evaluations(run_dir: Path, ctx: ContextState) -> list[dict[str, Any]]:
    """Trusted evaluations of this context's designs: evaluations/ctx<k>-*.json and <snapshot>.json."""
    folder = run_dir / "evaluations"
    number = ctx.name.removeprefix("ctx-")
    paths = sorted(folder.glob(f"ctx{number}-*.json"))
    paths += [folder / f"{sha}.json" for _, sha in ctx.snapshots if (folder / f"{sha}.json").is_file()]
    records, seen = [], set()
    for path in paths:
        if path in seen:
            continue
        seen.add(path)
        if record := unwrap_evaluation(load_json(path)):
            record.setdefault("_file", path.name)
            records.append(record)
    return records


def _simulation_of(record: dict[str, Any], ctx: ContextState) -> int:
    """Where an evaluated design sits on the context's simulation axis (its last simulation if unsure)."""
    for key in ("sim_index", "simulation", "simulation_index", "simulations"):
        if isinstance(record.get(key), int):
            return record[key]
    names = " ".join(str(record.get(k) or "") for k in ("label", "snapshot", "sha", "_file"))
    for index, sha in ctx.snapshots:
        if sha and sha[:7] in names:
            return index
    return ctx.simulations


def trusted_points(run_dir: Path, ctx: ContextState) -> list[tuple[int, float]]:
    """(simulation index, running best trusted score) at each evaluated design that set a new best."""
    scored = []
    for record in context_evaluations(run_dir, ctx):
        score = evaluation_score(record) if evaluation_is_valid(record) else None
        if score is not None:
            scored.append((_simulation_of(record, ctx), score))
    points: list[tuple[int, float]] = []
    best: float | None = None
    for index, score in sorted(scored, key=lambda item: item[0]):
        if better(score, best, ctx.lower_is_better):
            best = score
            points.append((index, score))
    return points


def best_context_evaluation(run_dir: Path, ctx: ContextState) -> dict[str, Any] | None:
    """The context's valid evaluation with the best trusted score."""
    best: dict[str, Any] | None = None
    for record in context_evaluations(run_dir, ctx):
        if evaluation_is_valid(record) and better(
            evaluation_score(record), evaluation_score(best) if best else None, ctx.lower_is_better
        ):
            best = record
    return best


def read_run(run_dir: Path) -> RunState:
    """Fold a run folder into a RunState; tolerant of a run that is still being written."""
    run = load_json(run_dir / "run.json")
    lower = lower_is_better(run)
    records = context_records(run)
    names = {p.name for p in context_dirs(run_dir)} | set(records)
    contexts: list[ContextState] = []
    for name in sorted(names, key=lambda n: (len(n), n)):
        ctx = ContextState(name=name, lower_is_better=lower)
        for event in iter_events(run_dir / name / "transcript.jsonl"):
            ctx.apply(event)
        if name in records:
            _apply_record(ctx, records[name], run_dir)
        if ctx.best_trusted is None:
            points = trusted_points(run_dir, ctx)
            ctx.best_trusted = points[-1][1] if points else None
        contexts.append(ctx)
    return RunState(run_dir=run_dir, run=run, contexts=contexts, lower_is_better=lower)


# ---------------------------------------------------------------------------------------------------
# Showing it
# ---------------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_budget(used: float, limit: float | None, digits: int = 0, prefix: str = "") -> str:
    used_text = f"{prefix}{used:.{digits}f}"
    return used_text if limit is None else f"{used_text} / {prefix}{limit:.{digits}f}"


def progress_table(state: RunState) -> Table:
    """The live table: one row per context, budgets in the caption."""
    table = Table(title=f"Glia run {state.run_id} · {state.strategy_label} · {state.phase()}", expand=False)
    for column, justify in (
        ("context", "left"),
        ("status", "left"),
        ("turn", "right"),
        ("sims", "right"),
        ("best claimed", "right"),
        ("best trusted", "right"),
        ("$", "right"),
        ("last action", "left"),
        ("supervisor", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for ctx in state.contexts:
        table.add_row(
            ctx.name,
            ctx.status,
            str(ctx.turns),
            str(ctx.simulations),
            fmt(ctx.best_claimed),
            fmt(ctx.best_trusted),
            f"{ctx.cost_usd:.2f}",
            shorten(ctx.last_command, 40),
            shorten(ctx.last_intervention, 40),
        )
    table.caption = totals_line(state)
    return table


def totals_line(state: RunState) -> str:
    totals, limits = state.totals(), state.budgets()
    return (
        f"simulations {fmt_budget(totals['simulations'], limits['simulations'])} · "
        f"dollars {fmt_budget(totals['dollars'], limits['dollars'], 2, '$')} · "
        f"minutes {fmt_budget(totals['minutes'], limits['minutes'], 1)}"
    )


def context_line(ctx: ContextState) -> str:
    """One plain line per context change, for logs and CI where a live table would be noise."""
    parts = [
        f"{ctx.name}: {ctx.status}",
        f"turn {ctx.turns}",
        f"sims {ctx.simulations}",
        f"best claimed {fmt(ctx.best_claimed)}",
        f"best trusted {fmt(ctx.best_trusted)}",
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

    def update(self, state: RunState) -> None:
        phase = f"run {state.run_id}: {state.phase()}"
        if self._last.get("") != phase:
            self._last[""] = phase
            print(phase, file=self.stream, flush=True)
        for ctx in state.contexts:
            line = context_line(ctx)
            if self._last.get(ctx.name) != line:
                self._last[ctx.name] = line
                print(line, file=self.stream, flush=True)

    def close(self, state: RunState) -> None:
        self.update(state)
        print(totals_line(state), file=self.stream, flush=True)


class LiveProgress:
    """A rich Live table redrawn from the run folder on every poll."""

    def __init__(self, console: Console) -> None:
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def update(self, state: RunState) -> None:
        self._live.update(progress_table(state), refresh=True)

    def close(self, state: RunState) -> None:
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

    def close(self) -> RunState:
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
