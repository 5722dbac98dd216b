"""The simulation ledger: every simulation is counted where it happens, by the simulator's own report.

The bundled simulator reports each run from `Simulator.run()` over a unix socket (`ledger_socket.py`
serves it; the protocol is in its docstring and in docs/architecture.md). On `start` the ledger
charges the shared budget (refusing once the simulation budget is spent, so it is never overshot),
snapshots the working tree (the design that ran), records a `simulation_started` event attributed to
the bash call that started it (the `GLIA_CALL` it reports, else the call in flight), and answers with
the simulation's number. On `end` it records a `simulation`
event; a run whose connection closes without one crashed or was killed, and counts all the same.

Nothing reported is trusted. A run is a *claim* (a benchmark run of the design) only when every key of
the task's benchmark conditions matches the conditions it reported; anything else is an *experiment*,
recorded and shown but never ranked. A claim's score is only what the simulator said: trusted numbers
come from the evaluator. Fake `start` messages from a Researcher's own script are simulations it chose
to report and cost budget like any other; nothing else on the socket costs anything.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import structlog

from glia.agents.cpu_backstop import CpuBackstop, CpuPolicy
from glia.agents.ledger_socket import Answer, EndReport, LedgerServer, ServerLimits, StartReport, clean_text
from glia.cores import hold_core, release_core
from glia.metric import Metric
from glia.record import events as ev
from glia.record.simulations import CLAIM, ENDED, EXPERIMENT, KILLED, LOST, Simulation, fold_simulations
from glia.record.transcript import Transcript
from glia.record.writer import EventWriter

log = structlog.get_logger()

CALL_ENV = "GLIA_CALL"  # set for each command; the simulator reports it (see llmsim/glia_ledger.py)
BUDGET_SPENT = "the simulation budget of this run is spent"
CONTEXT_ENDED = "this context has ended"
KILLED_WITH_PROCESS = "killed with the Glia process: the run was in progress when the session stopped"
CONDITIONS_UNREADABLE = "its conditions were unreadable"


class BudgetLike(Protocol):
    """The part of `glia.budget.Budget` (or a context's view of it) the ledger uses."""

    def try_charge_simulation(self) -> int | None: ...

    def remaining(self) -> dict[str, Any]: ...

    def charge_uncounted(self, n: int, cpu_s: float) -> int: ...


SimulationRecord = Simulation  # the ledger's name for the one simulation type (glia.record.simulations)


def is_claim(conditions: Mapping[str, Any] | None, benchmark_conditions: Mapping[str, Any]) -> bool:
    """True when every benchmark condition is reported with the same value (numbers compare as
    numbers, so 1000 equals 1000.0; a boolean never equals a number)."""
    if conditions is None:
        return False
    return all(
        key in conditions and _same(conditions[key], want) for key, want in benchmark_conditions.items()
    )


def _same(got: Any, want: Any) -> bool:
    if isinstance(got, bool) or isinstance(want, bool):
        return type(got) is type(want) and got == want
    if isinstance(got, int | float) and isinstance(want, int | float):
        return float(got) == float(want)
    return type(got) is type(want) and got == want


def best_record(records: Sequence[SimulationRecord], metric: Metric) -> SimulationRecord | None:
    """The valid claim the task's metric ranks best (feasible reported numbers first, then the
    objective); the earliest wins a tie. Experiments (another router, another workload, other
    settings) are never ranked against claims."""
    claims = [r for r in records if r.is_claim and r.valid]
    return metric.best(claims, lambda r: r.claimed_score, lambda r: metric.feasible(r.values))


def format_remaining(remaining: dict[str, Any]) -> str:
    """Render `Budget.remaining()` for the model; unknown keys are shown as they are."""
    labels = {
        "simulations": ("simulations", "{:g}"),
        "dollars": ("dollars", "${:.2f}"),
        "usd": ("dollars", "${:.2f}"),
        "cost_usd": ("dollars", "${:.2f}"),
        "time_s": ("time", None),
        "seconds": ("time", None),
        "tokens": ("tokens", "{:,}"),
    }
    parts = []
    for key, value in remaining.items():
        if value is None:
            continue
        label, fmt = labels.get(key, (key, None))
        if label == "time" and isinstance(value, int | float):
            minutes = max(0, int(value)) // 60
            text = f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
        elif fmt and isinstance(value, int | float):
            text = fmt.format(value)
        else:
            text = str(value)
        parts.append(f"{label} {text}")
    return ", ".join(parts) if parts else "no limits"


class SimulationLedger:
    """Counts, snapshots and records the simulations of one context, as the simulator reports them.

    Thread-safe: reports arrive on the server's handler threads while the context's own thread asks
    for notes. `snapshot(message) -> sha` saves the working tree; it is called once per start, before
    the simulator is allowed to run, and never concurrently with itself from here.
    """

    def __init__(
        self,
        budget: BudgetLike,
        transcript: Transcript,
        snapshot: Callable[[str], str | None],
        metric: Metric,
        benchmark_conditions: Mapping[str, Any],
        server_limits: ServerLimits | None = None,
    ) -> None:
        self.budget = budget
        self.transcript = transcript
        self.events = EventWriter(transcript)
        self.snapshot = snapshot
        self.metric: Metric = metric
        self.benchmark_conditions = dict(benchmark_conditions)
        self.server_limits = server_limits
        self.records: list[SimulationRecord] = []
        self.refused = 0  # starts refused because the budget was spent or the context had ended
        self._lock = threading.Lock()  # records, the running map, the happenings since the last note
        self._start_lock = threading.Lock()  # one start at a time: charge, snapshot, event, answer
        self._running: dict[int, SimulationRecord] = {}  # connection -> its started run
        self._call_id: str | None = None  # the bash call in flight
        self._issued_calls: set[str] = set()  # every call id handed to a command (to check reports)
        self._touched: list[SimulationRecord] = []  # started or ended since the last note
        self._refused_since_note: dict[str, int] = {}  # reason -> how many since the last note
        self._closed = False
        self._server: LedgerServer | None = None
        self.cpu: CpuBackstop | None = None  # the backstop, once the sandbox's CPU time is watched

    # -- the socket ---------------------------------------------------------------------------------

    def listen(self, socket_dir: Path | None = None) -> Path:
        """Start serving the ledger socket; returns its host path (to bind-mount into the sandbox)."""
        if self._server is None:
            self._server = LedgerServer(self, self.server_limits, socket_dir)
            self._server.start()
        return self._server.path

    def close(self) -> None:
        """Stop taking reports; runs still going are recorded as lost (the context ended under them)."""
        with self._start_lock:
            self._closed = True
        if self.cpu is not None:
            self.cpu.close()
        if self._server is not None:
            self._server.close()
        with self._lock:
            left = list(self._running)
        for connection in left:
            self.on_lost(connection, "the context ended while the run was in progress")

    def watch_cpu(self, read_cpu: Callable[[], float | None] | None, policy: CpuPolicy | None = None) -> None:
        """Bound this context by its sandbox's CPU time (`cpu_backstop`): call once the sandbox is
        ready, before the first command; `read_cpu` None (a backend without one) watches nothing."""
        if read_cpu is not None and self.cpu is None:
            self.cpu = CpuBackstop(read_cpu, lambda: self.count, self.budget, self.transcript, policy)

    # -- the command in flight ----------------------------------------------------------------------

    def begin_command(self, call_id: str) -> None:
        """The bash call `call_id` is about to run (with GLIA_CALL=`call_id` in its environment): runs
        that report it, or report no call while it runs, are attributed to it."""
        with self._lock:
            self._call_id = call_id
            self._issued_calls.add(call_id)
        if self.cpu is not None:
            self.cpu.command_started(call_id)

    def end_command(self) -> str | None:
        """The command is over: the note to append to its result, or None when no simulation started,
        ended or was refused since the last note and no uncounted compute was charged."""
        with self._lock:
            self._call_id = None
        notes = [self.take_note(), self.cpu.command_ended() if self.cpu is not None else None]
        return " ".join(n for n in notes if n) or None

    # -- reports from the socket (ReportHandler) ----------------------------------------------------

    def on_start(self, connection: int, report: StartReport) -> Answer:
        with self._start_lock:
            if self._closed:
                return self._refuse(CONTEXT_ENDED)
            total = self.budget.try_charge_simulation()
            if total is None:
                return self._refuse(BUDGET_SPENT)
            problems = list(report.problems)
            kind = (
                CLAIM
                if not problems and is_claim(report.conditions, self.benchmark_conditions)
                else EXPERIMENT
            )
            with self._lock:
                record = Simulation(
                    index=len(self.records) + 1,
                    result_dir=report.result_dir,
                    claimed_score=None,
                    valid=False,
                    error=None,
                    snapshot=None,
                    kind=kind,
                    conditions=report.conditions,
                    call_id=self._attribute(report.call),
                    run_total=total,
                    problems=problems,
                    ended=False,
                    outcome=None,
                    start_seen=True,
                )
                self.records.append(record)
                self._running[connection] = record
            record.snapshot = self._take_snapshot(record)
            self.events.simulation_started(record.started_fields())
            with self._lock:
                self._touched.append(record)
            hold_core((id(self), connection))  # core scheduler hook (glia/cores.py), released at the end
            return Answer(True, simulation=record.index)

    def on_end(self, connection: int, report: EndReport) -> None:
        release_core((id(self), connection))
        with self._lock:
            record = self._running.pop(connection, None)
            if record is None:
                return
            record.problems.extend(report.problems)
            if report.problems:
                self._settle(record, ENDED, False, "unreadable end: " + "; ".join(report.problems))
            else:
                self._settle(record, ENDED, bool(report.valid), report.error)
                read_numbers(record, report.summary, self.metric)
            self._touched.append(record)
        self.events.simulation_ended(record.ended_fields())

    def on_lost(self, connection: int, reason: str) -> None:
        release_core((id(self), connection))
        with self._lock:
            record = self._running.pop(connection, None)
            if record is None:
                return
            self._settle(record, LOST, False, f"crashed or killed: {reason}")
            self._touched.append(record)
        self.events.simulation_ended(record.ended_fields())

    # -- views --------------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.records)

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def claims(self) -> list[SimulationRecord]:
        """Finished claims, in the order they started."""
        with self._lock:
            return [r for r in self.records if r.is_claim and r.ended]

    def best(self) -> SimulationRecord | None:
        """The valid claim with the best claimed score (the earliest one on ties)."""
        with self._lock:
            records = list(self.records)
        return best_record(records, metric=self.metric)

    def take_note(self) -> str | None:
        """What the Researcher is told about simulations since the last note (None: nothing new)."""
        with self._lock:
            touched = list({id(r): r for r in self._touched}.values())  # each once, first-touch order
            refused = dict(self._refused_since_note)
            self._touched.clear()
            self._refused_since_note.clear()
            count, running = len(self.records), len(self._running)
        if not touched and not refused:
            return None
        parts = [describe(r, self.metric) for r in touched]
        parts += [f"{n} simulation(s) refused before running: {why}." for why, n in refused.items()]
        in_progress = f" ({running} still running)" if running else ""
        parts.append(
            f"Simulations used in this session: {count}{in_progress}. "
            f"Remaining budget: {format_remaining(self.budget.remaining())}."
        )
        return "[" + " ".join(parts) + "]"

    # -- resume -------------------------------------------------------------------------------------

    def restore(self, events: Sequence[dict[str, Any]]) -> None:
        """Rebuild the records from an earlier session's events. A start without an end was running
        when that session's process stopped: it is recorded now as killed with the process."""
        records = fold_simulations(
            (ev.parse_event(e) for e in events), self.metric, router_as_conditions=True
        )
        with self._lock:
            self.records = records
            orphans = [r for r in self.records if not r.ended]
            for record in orphans:
                self._settle(record, KILLED, False, KILLED_WITH_PROCESS)
        for record in orphans:
            self.events.simulation_ended(record.ended_fields())

    # -- internals ----------------------------------------------------------------------------------

    def _attribute(self, reported: str | None) -> str | None:
        """The command that started a run: the one it reports (GLIA_CALL is inherited by background
        processes) when that is a call this context issued, else the call in flight. Under `_lock`."""
        return reported if reported in self._issued_calls else self._call_id

    def _refuse(self, why: str) -> Answer:
        with self._lock:
            self.refused += 1
            first = not self._refused_since_note
            self._refused_since_note[why] = self._refused_since_note.get(why, 0) + 1
            call_id = self._call_id
        if first:  # one event per note, however many starts a flood sends
            self.events.simulation_refused(reason=why, call_id=call_id)
        return Answer(False, error=why)

    def _take_snapshot(self, record: SimulationRecord) -> str | None:
        router = record.router or "unknown router"
        message = f"sim {record.index}: {record.kind} ({clean_text(router, 80)})"
        try:
            return self.snapshot(message)
        except Exception as exc:  # noqa: BLE001 - the run was charged; it goes ahead without a snapshot
            log.warning("ledger.snapshot_failed", index=record.index, error=str(exc))
            record.problems.append(f"snapshot failed: {type(exc).__name__}")
            return None

    def _settle(self, record: SimulationRecord, outcome: str, valid: bool, error: str | None) -> None:
        record.ended = True
        record.outcome = outcome
        record.valid = valid
        record.error = error
        record.ended_call_id = self._call_id


def read_numbers(record: Simulation, summary: Mapping[str, Any] | None, metric: Metric) -> None:
    """Take a run's reported numbers: a claim's score (only a claim's), an experiment's (for display)."""
    if summary is None:
        return
    numbers = {
        k: float(v) for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    record.values = numbers  # a claim's too: its constraint keys decide its feasibility
    if not record.is_claim:
        return
    objective = metric.name
    score = numbers.get(objective)
    if score is not None and math.isfinite(score):
        record.claimed_score = score
    elif record.valid:
        record.valid = False
        record.error = f"the summary has no numeric {objective}"


def describe(record: Simulation, metric: Metric) -> str:
    """One simulation as the Researcher's note after a command tells it."""
    what = "benchmark run" if record.is_claim else f"experiment: {_conditions_brief(record)}"
    head = f"Simulation #{record.index} ({what})"
    if not record.ended:
        return f"{head} started, still running."
    if record.outcome != ENDED:
        return f"{head} {record.error}."
    if not record.valid:
        return f"{head} invalid: {record.error or 'no reason given'}."
    if record.claimed_score is not None:
        return f"{head} valid, claimed {metric.name} {record.claimed_score:.3f}."
    shown = (record.values or {}).get(metric.name)
    return f"{head} valid" + (f", {metric.name} {shown:.3f}." if shown is not None else ".")


def _conditions_brief(record: SimulationRecord) -> str:
    if record.conditions is None:
        return CONDITIONS_UNREADABLE
    conditions = record.conditions
    shown = [str(conditions.get(k)) for k in ("router", "workload") if conditions.get(k) is not None]
    return clean_text(", ".join(shown), 160) if shown else "other conditions"
