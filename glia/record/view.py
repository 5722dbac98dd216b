"""The one reader of a run folder: run.json, every context's transcript, the evaluations and the lock,
folded into a typed `RunView`.

The live table, `glia runs`, `glia show`, the notes, the report and the end of `glia solve` all read a
run through `read_run` (or `read_context` for one context folder), so they agree: a claim is a benchmark
run under the task's conditions and an experiment is anything else (shown with its numbers, never ranked
against claims); every judged design shows its verdict, with the reason when it was rejected; a run whose
process is gone shows as interrupted, whatever run.json last said. Comparisons use the task's `Metric`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.metric import Metric
from glia.record import events as ev
from glia.record.lock import LockState, probe_lock
from glia.record.run import BaselineEntry, BestEntry, ContextEntry, RunDoc, TrustedEntry
from glia.record.simulations import Simulation, apply_simulation_event
from glia.record.transcript import TRANSCRIPT_FILE, read_events

TERMINAL_STATUSES = frozenset({"finished", "interrupted", "failed"})
ENDED_FOR_GOOD = "ended"  # ContextView.phase of a context whose last session ended (not interrupted)


# --------------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    """A trusted evaluation of one of a context's designs, as run.json records it."""

    entry: TrustedEntry

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def valid(self) -> bool:
        return self.entry.valid and self.entry.score is not None

    @property
    def score(self) -> float | None:
        return self.entry.score if self.entry.valid else None

    @property
    def interval(self) -> tuple[float, float] | None:
        low, high = self.entry.ci_low, self.entry.ci_high
        return (low, high) if low is not None and high is not None else None

    def describe(self, metric: Metric, digits: int = 3) -> str:
        if not self.valid:
            return f"rejected: {self.entry.reason or 'no reason given'}"
        text = metric.format(self.entry.score, digits)
        if not self.entry.feasible:
            text += " (infeasible: " + "; ".join(self.entry.violations or ("a constraint fails",)) + ")"
        return text


# --------------------------------------------------------------------------------------- contexts


@dataclass
class ContextView:
    """One context as its transcript and its run.json entry tell it."""

    index: int
    metric: Metric
    entry: ContextEntry | None = None
    turns: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    unpriced_calls: int = 0
    simulations: dict[int, Simulation] = field(default_factory=dict)
    last_command: str = ""
    last_intervention: str = ""
    sessions: int = 0
    transcript_ended: bool = False  # the last session wrote its context_end
    end_reason: str | None = None  # of the last context_end
    finish_summary: Mapping[str, Any] | str | None = None
    final_snapshot: str | None = None
    started: bool = False
    live: bool = True  # whether the run's process is alive (set by the run view)

    @property
    def name(self) -> str:
        return f"ctx-{self.index}"

    # -- folding events --------------------------------------------------------------------------

    def apply(self, event: ev.Event) -> None:
        """Fold one typed event in; unknown events change nothing."""
        if isinstance(event, ev.ContextStarted):
            self.started = True
            self.transcript_ended = False
        elif isinstance(event, ev.SessionStarted):
            self.started = True
            self.sessions += 1
            self.transcript_ended = False
        elif isinstance(event, ev.AssistantTurn):
            self.started = True
            self.turns += 1
            self.transcript_ended = False
        elif isinstance(event, ev.ModelCall):
            self.tokens += event.tokens
            if event.cost_usd is None:
                self.unpriced_calls += 1
            else:
                self.cost_usd += event.cost_usd
        elif isinstance(event, ev.CommandStarted):
            self.last_command = event.command
        elif isinstance(event, ev.ToolResult):
            if event.name != ev.FINISH:
                self.last_command = event.command or self.last_command or event.name
        elif isinstance(event, ev.SimulationStarted | ev.SimulationEnded):
            apply_simulation_event(self.simulations, event, self.metric)
        elif isinstance(event, ev.SupervisorSpoke):
            self.last_intervention = f"{event.trigger or '?'}: {event.text}"
        elif isinstance(event, ev.FinishCalled):
            if event.accepted is not False:
                self.finish_summary = event.summary
        elif isinstance(event, ev.ContextEnded):
            self.transcript_ended = True
            self.end_reason = event.reason
            self.final_snapshot = event.final_snapshot or self.final_snapshot
        elif isinstance(event, ev.UserMessage) and self.transcript_ended:
            self.transcript_ended = False  # a resumed session written before session_start existed

    # -- what it says ------------------------------------------------------------------------------

    @property
    def final_sha(self) -> str | None:
        """The context's final snapshot (its transcript's end, else run.json's)."""
        return self.final_snapshot or (self.entry.final_snapshot if self.entry else None)

    @property
    def sims(self) -> list[Simulation]:
        return [self.simulations[k] for k in sorted(self.simulations)]

    def claims(self) -> list[Simulation]:
        return [s for s in self.sims if s.is_claim]

    def experiments(self) -> list[Simulation]:
        return [s for s in self.sims if not s.is_claim]

    @property
    def simulation_count(self) -> int:
        counted = len(self.simulations)
        return max(counted, self.entry.simulations if self.entry else 0)

    def best_claim(self, upto: int | None = None) -> Simulation | None:
        """The valid claim the metric ranks first (feasible claims first; the earliest on ties)."""
        claims = [s for s in self.claims() if s.ended and s.valid and (upto is None or s.index <= upto)]
        return self.metric.best(
            claims, score=lambda s: s.claimed_score, feasible=lambda s: s.feasible(self.metric)
        )

    def claim_curve(self) -> list[tuple[int, float]]:
        """(run simulations used, best claim so far) at each claim that set a new best."""
        points: list[tuple[int, float]] = []
        best: Simulation | None = None
        for sim in self.claims():
            now = self.best_claim(upto=sim.index)
            if now is not None and now is not best:
                best = now
                points.append((self.run_axis(sim), float(now.claimed_score)))  # type: ignore[arg-type]
        return points

    def run_axis(self, sim: Simulation) -> int:
        """Where a simulation sits on the run's simulations-used axis."""
        if sim.run_total is not None:
            return sim.run_total
        totals = self.entry.run_totals if self.entry else ()
        return totals[sim.index - 1] if 0 < sim.index <= len(totals) else sim.index

    @property
    def verdicts(self) -> list[Verdict]:
        return [Verdict(t) for t in (self.entry.trusted if self.entry else ())]

    def best_verdict(self) -> Verdict | None:
        valid = [v for v in self.verdicts if v.valid]
        return self.metric.best(valid, score=lambda v: v.score, feasible=lambda v: v.entry.feasible)

    @property
    def best_trusted(self) -> float | None:
        best = self.best_verdict()
        return best.score if best else None

    def verdict_for(self, sha: str | None) -> Verdict | None:
        if not sha:
            return None
        return next((v for v in self.verdicts if v.entry.sha == sha), None)

    def verdict_text(self, digits: int = 3) -> str:
        """The context's trusted verdict in a few words: its best score, why it was rejected, or why
        nothing was judged."""
        best = self.best_verdict()
        if best is not None:
            return best.describe(self.metric, digits)
        rejected = [v for v in self.verdicts if not v.valid]
        if rejected:
            return rejected[-1].describe(self.metric, digits)
        problems = self.entry.evaluation_problems if self.entry else ()
        if problems:
            return "not evaluated: " + _strip_label(problems[0])
        if self.entry is not None and self.entry.judged:
            return "not evaluated"
        return "—"

    @property
    def status(self) -> str:
        """running / pending / interrupted, or the reason the context ended."""
        entry = self.entry
        if self.transcript_ended and self.end_reason != "interrupted":
            return self.end_reason or "ended"
        if entry is not None and entry.status == "finished":
            return entry.end_reason or "ended"
        pending = (entry is None or entry.status == "pending") and not self.started
        if pending:
            return "pending"
        if not self.live:
            return "interrupted"
        if entry is not None and entry.status == "running":
            return "running"  # a resumed context whose new session has not written yet counts too
        if self.transcript_ended or (entry is not None and entry.status == "interrupted"):
            return "interrupted"
        return "running"

    @property
    def ended(self) -> bool:
        return self.status not in ("running", "waiting", "pending", "interrupted")

    @property
    def error(self) -> str | None:
        return self.entry.error if self.entry else None

    @property
    def judged(self) -> bool:
        return bool(self.entry and self.entry.judged)


def _strip_label(problem: str) -> str:
    """`ctx2-final: the design is ...` -> `the design is ...`."""
    head, sep, rest = problem.partition(": ")
    return rest if sep and head.startswith("ctx") and " " not in head else problem


# -------------------------------------------------------------------------------------------- runs


@dataclass
class RunView:
    """A run folder at one moment."""

    run_dir: Path
    doc: RunDoc
    contexts: list[ContextView]
    lock: LockState

    @property
    def metric(self) -> Metric:
        return self.doc.metric

    @property
    def run_id(self) -> str:
        return self.doc.run_id or self.run_dir.name

    @property
    def strategy_label(self) -> str:
        return self.doc.strategy_label

    @property
    def live(self) -> bool:
        """A process is working on this run right now."""
        return self.lock.held

    @property
    def status(self) -> str:
        """run.json's status, except that a 'running' run whose process is gone is 'interrupted'."""
        if self.doc.status == "running" and not self.live:
            return "interrupted" if self.doc.sessions or self.contexts_started() else "prepared"
        return self.doc.status

    def status_text(self) -> str:
        """The status with who holds a live run, or why a run is interrupted or failed."""
        status = self.status
        if self.live and self.lock.holder:
            return f"{status} (pid {self.lock.holder.get('pid')} on {self.lock.holder.get('host')})"
        if self.doc.status == "running" and status == "interrupted":
            return "interrupted (its process is gone)"
        return status

    @property
    def finished(self) -> bool:
        """True once nothing will change any more without a new command (finished, failed, stopped)."""
        return self.status in TERMINAL_STATUSES or self.status == "prepared"

    def contexts_started(self) -> bool:
        return any(c.started for c in self.contexts)

    def phase(self) -> str:
        """What the run as a whole is doing, for the line above the contexts."""
        status = self.status
        if status != "running":
            return status
        baselines = self.baseline_scores()
        if not baselines:
            return "measuring baselines"
        scores = ", ".join(f"{name} {self.metric.format(score)}" for name, score in sorted(baselines.items()))
        if self.contexts and all(c.ended for c in self.contexts):
            return f"evaluating designs (baselines: {scores})"
        return f"researching (baselines: {scores})"

    def totals(self) -> dict[str, float]:
        """Simulations, dollars and minutes used so far; the transcripts' sums when they are ahead of
        run.json (a live run between two saves)."""
        usage = self.doc.usage
        simulations = max(usage.simulations, sum(c.simulation_count for c in self.contexts))
        dollars = max(usage.dollars, sum(c.cost_usd for c in self.contexts))
        return {"simulations": float(simulations), "dollars": dollars, "minutes": usage.minutes}

    def budgets(self) -> dict[str, float | None]:
        limits = self.doc.budgets
        return {
            "simulations": None if limits.simulations is None else float(limits.simulations),
            "dollars": limits.dollars,
            "minutes": None if limits.wall_time_s is None else limits.wall_time_s / 60.0,
        }

    def best(self) -> tuple[BestEntry | None, ContextView | None]:
        best = self.doc.best
        if best is None:
            return None, None
        return best, next((c for c in self.contexts if c.index == best.context), None)

    def best_trusted(self) -> tuple[float | None, str | None]:
        """The run's chosen trusted score and its context (the orchestrator's choice when made, else the
        best verdict over the contexts)."""
        best = self.doc.best
        if best is not None and best.score is not None:
            return best.score, f"ctx-{best.context}"
        chosen = self.metric.best(
            (c for c in self.contexts if c.best_verdict() is not None),
            score=lambda c: c.best_trusted,
            feasible=lambda c: c.best_verdict().entry.feasible,  # type: ignore[union-attr]
        )
        return (chosen.best_trusted, chosen.name) if chosen else (None, None)

    def baseline_scores(self) -> dict[str, float]:
        return {name: b.score for name, b in self.doc.baselines.items() if b.valid and b.score is not None}

    def baseline(self, name: str) -> BaselineEntry | None:
        return self.doc.baselines.get(name)

    def reference_baseline(self) -> tuple[str, float | None]:
        name = self.doc.reference_baseline
        return name, self.baseline_scores().get(name)

    def improvement_over_reference(self) -> float | None:
        return self.metric.improvement(self.best_trusted()[0], self.reference_baseline()[1])

    def timeline(self, context: int, kind: str) -> list[tuple[int, float]]:
        """run.json's valid progress points (run simulations used, score) of one context and kind."""
        return sorted(
            (p.simulations, p.score)
            for p in self.doc.timeline
            if p.context == context
            and p.kind == kind
            and p.valid
            and p.simulations is not None
            and p.score is not None
        )

    def context(self, index: int) -> ContextView | None:
        return next((c for c in self.contexts if c.index == index), None)


# ------------------------------------------------------------------------------------------ reading


def load_doc(run_dir: Path) -> RunDoc:
    """run.json as a RunDoc (an empty one when missing or half-written: a run being created)."""
    try:
        return RunDoc.read(run_dir)
    except (OSError, ValueError):
        return RunDoc.parse({}, fallback_id=Path(run_dir).name)


def fold_context(index: int, metric: Metric, events: Iterable[Mapping[str, Any]]) -> ContextView:
    view = ContextView(index=index, metric=metric)
    for raw in events:
        view.apply(ev.parse_event(raw))
    return view


def read_run(run_dir: Path) -> RunView:
    """Fold a run folder into a RunView; tolerant of a run that is still being written."""
    run_dir = Path(run_dir)
    doc = load_doc(run_dir)
    lock = probe_lock(run_dir)
    indices = {entry.context for entry in doc.contexts} | set(_context_folders(run_dir))
    contexts = []
    for index in sorted(indices):
        view = fold_context(index, doc.metric, read_events(run_dir / f"ctx-{index}" / TRANSCRIPT_FILE))
        view.entry = doc.context(index)
        view.live = lock.held
        contexts.append(view)
    return RunView(run_dir=run_dir, doc=doc, contexts=contexts, lock=lock)


def read_context(ctx_dir: Path, events: list[dict[str, Any]] | None = None) -> tuple[RunView, ContextView]:
    """One context folder and the run around it (run.json and the lock; the other contexts are not
    read): what the notes need, cheaply enough to re-render while the context works."""
    ctx_dir = Path(ctx_dir)
    run_dir = ctx_dir.parent
    doc = load_doc(run_dir)
    lock = probe_lock(run_dir)
    index = _index_of(ctx_dir.name) or 0
    if events is None:
        events = read_events(ctx_dir / TRANSCRIPT_FILE)
    view = fold_context(index, doc.metric, events)
    view.entry = doc.context(index)
    view.live = lock.held
    return RunView(run_dir=run_dir, doc=doc, contexts=[view], lock=lock), view


def _context_folders(run_dir: Path) -> list[int]:
    found = []
    for path in run_dir.glob("ctx-*"):
        index = _index_of(path.name)
        if index is not None and path.is_dir():
            found.append(index)
    return found


def _index_of(name: str) -> int | None:
    suffix = name.removeprefix("ctx-")
    return int(suffix) if suffix.isdigit() and name.startswith("ctx-") else None
