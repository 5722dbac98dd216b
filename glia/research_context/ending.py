"""The end of a context: its outcome (what the orchestrator judges) and the `context_end` event."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from glia.agents.ledger import SimulationLedger
from glia.record.outcome import ContextOutcome, SnapshotRef
from glia.record.writer import EventWriter
from glia.research_context.spending import Spending


def record_end(
    *,
    index: int,
    reason: str,
    error: str | None,
    ledger: SimulationLedger,
    spending: Spending,
    final_sha: str | None,
    finish_summary: dict[str, Any] | None,
    events: EventWriter,
) -> ContextOutcome:
    """The outcome from the simulations (the ledger is closed by now) and the final snapshot, recorded."""
    snapshots = [
        SnapshotRef(r.snapshot or "", r.index, r.claimed_score, r.valid, r.kind, r.run_total)
        for r in ledger.records
    ]
    best = ledger.best()
    outcome = ContextOutcome(
        index=index,
        end_reason=reason,
        steps=spending.steps,
        simulations=ledger.count,
        cost_usd=round(spending.cost_usd, 6),
        tokens=spending.tokens,
        final_sha=final_sha,
        snapshots=snapshots,
        best_claimed=next((s for s in snapshots if best and s.sim_index == best.index), None),
        finish_summary=finish_summary,
        error=error,
    )
    events.context_ended(
        reason=reason,
        simulations=outcome.simulations,
        cost_usd=outcome.cost_usd,
        final_snapshot=final_sha,
        best_claimed=asdict(outcome.best_claimed) if outcome.best_claimed else None,
        result=outcome.to_dict(),
    )
    return outcome
