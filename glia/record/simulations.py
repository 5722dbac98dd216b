"""A context's simulations: one type (`Simulation`) and one fold of their events, shared by every reader.

The ledger (`glia.agents.ledger`) builds a `Simulation` as the simulator reports a run and writes its
events from it (`started_fields`, `ended_fields`); resume rebuilds the ledger's simulations, and the
views (`glia.record.view`: notes, reports, the live table, the browser) rebuild a context's, by folding
the same typed events with `apply_simulation_event`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from glia.metric import Metric
from glia.record import events as ev

CLAIM, EXPERIMENT = ev.CLAIM, ev.EXPERIMENT
ENDED, LOST, KILLED = "ended", "lost", "killed_with_process"  # how a simulation ended


@dataclass
class Simulation:
    """One counted simulation: its start (conditions, snapshot, command) and, once known, its end.

    The first six fields keep the order of the older folder-scanning record, and the defaults describe
    a finished claim, so records built for tests read as they did; `Simulation.pending` is one whose
    start alone is known."""

    index: int
    result_dir: str | None = None  # as the simulator reported it (a path inside the sandbox)
    claimed_score: float | None = None  # claims only
    valid: bool = False
    error: str | None = None
    snapshot: str | None = None
    kind: str = CLAIM  # CLAIM or EXPERIMENT
    conditions: Mapping[str, Any] | None = None
    call_id: str | None = None  # the bash call in flight when it started
    run_total: int | None = None  # the run's simulation count once this one was charged
    problems: list[str] = field(default_factory=list)
    ended: bool = True
    outcome: str | None = ENDED  # ENDED, LOST or KILLED; None while running
    values: Mapping[str, float] | None = None  # the reported numbers (claims: for constraints; display)
    ended_call_id: str | None = None
    start_seen: bool = False  # its `simulation_started` was read (older transcripts have only ends)

    @classmethod
    def pending(cls, index: int, kind: str = EXPERIMENT) -> Simulation:
        return cls(index=index, kind=kind, ended=False, outcome=None)

    @property
    def is_claim(self) -> bool:
        return self.kind == CLAIM

    @property
    def design_run(self) -> bool:
        """Kept for readers of older transcripts: a claim is a run of the design."""
        return self.is_claim

    @property
    def router(self) -> str | None:
        router = (self.conditions or {}).get("router")
        return router if isinstance(router, str) else None

    def value(self, metric: Metric) -> float | None:
        """The objective as the run reported it: a claim's score, or an experiment's number."""
        if self.claimed_score is not None:
            return self.claimed_score
        return ev.number((self.values or {}).get(metric.name))

    def conditions_text(self, width: int = 90) -> str:
        """What made it an experiment, briefly: its router and workload as reported."""
        if self.conditions is None:
            return "conditions unreadable"
        shown = [
            f"{k} {self.conditions[k]}" for k in ("router", "workload") if self.conditions.get(k) is not None
        ]
        text = ", ".join(shown) or "other conditions"
        return text if len(text) <= width else text[: width - 1] + "…"

    def feasible(self, metric: Metric) -> bool:
        return metric.feasible(self.values)

    # -- its events (written by the ledger) --------------------------------------------------------

    def started_fields(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "conditions": self.conditions,
            "snapshot": self.snapshot,
            "call_id": self.call_id,
            "result_dir": self.result_dir,
            "run_total": self.run_total,
            "problems": self.problems,
        }

    def ended_fields(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "outcome": self.outcome,
            "valid": self.valid,
            "error": self.error,
            "claimed_score": self.claimed_score,
            "values": self.values,
            "result_dir": self.result_dir,
            "snapshot": self.snapshot,
            "router": self.router,
            "design_run": self.design_run,
            "call_id": self.call_id,
            "ended_call_id": self.ended_call_id,
            "problems": self.problems,
        }

    def to_event_fields(self) -> dict[str, Any]:
        fields = asdict(self)
        fields.pop("start_seen")
        return fields


def apply_simulation_event(
    sims: dict[int, Simulation], event: ev.Event, metric: Metric, router_as_conditions: bool = False
) -> Simulation | None:
    """Fold one typed event into `sims` (index -> simulation); returns the simulation it touched, or None
    for an event about no simulation. An index that is not positive reads as the next one.

    `router_as_conditions`: a simulation known only by its end (transcripts of the folder-scanning
    ledger) takes the router its end reports as its conditions. The ledger's resume does so (the
    Supervisor then names it); the views show such a run's conditions as unreadable, as they always did."""
    if isinstance(event, ev.SimulationStarted):
        sim = _simulation(sims, event.index)
        sim.start_seen = True
        sim.kind, sim.conditions, sim.snapshot = event.kind, event.conditions, event.snapshot
        sim.call_id, sim.run_total, sim.result_dir = event.call_id, event.run_total, event.result_dir
        sim.problems = list(event.problems)
        return sim
    if isinstance(event, ev.SimulationEnded):
        sim = _simulation(sims, event.index)
        if not sim.start_seen:
            sim.kind = event.kind  # no start event (older transcripts): the end says what it was
            if router_as_conditions and sim.conditions is None and event.router is not None:
                sim.conditions = {"router": event.router}
        sim.ended, sim.outcome, sim.valid, sim.error = True, event.outcome, event.valid, event.error
        sim.claimed_score = event.claimed_score if sim.is_claim else None
        sim.values = event.values if event.values is not None else sim.values
        if sim.values is None and not sim.is_claim and event.claimed_score is not None:
            sim.values = {metric.name: event.claimed_score}
        sim.snapshot = sim.snapshot or event.snapshot
        sim.result_dir = sim.result_dir or event.result_dir
        sim.call_id = sim.call_id or event.call_id
        sim.ended_call_id = event.ended_call_id
        return sim
    return None


def fold_simulations(
    events: Iterable[ev.Event], metric: Metric, router_as_conditions: bool = False
) -> list[Simulation]:
    """The simulations of a context's typed events, in index order."""
    sims: dict[int, Simulation] = {}
    for event in events:
        apply_simulation_event(sims, event, metric, router_as_conditions)
    return [sims[i] for i in sorted(sims)]


def _simulation(sims: dict[int, Simulation], index: int) -> Simulation:
    if index <= 0:
        index = max(sims, default=0) + 1
    return sims.setdefault(index, Simulation.pending(index))
