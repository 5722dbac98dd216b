"""When the Supervisor is consulted (its policy decides), and how each review is recorded."""

from __future__ import annotations

from typing import Any

import structlog

from glia.agents.ledger import SimulationLedger
from glia.agents.researcher import Researcher
from glia.agents.supervisor import FINISH, Supervisor, SupervisorPolicy, SupervisorReview
from glia.record.transcript import Transcript
from glia.record.writer import EventWriter
from glia.research_context.spending import Spending


class Supervision:
    """The Supervisor of one context, its policy and the record of what it said."""

    def __init__(
        self,
        supervisor: Supervisor,
        policy: SupervisorPolicy,
        ledger: SimulationLedger,
        transcript: Transcript,
        events: EventWriter,
        spending: Spending,
        log: structlog.BoundLogger,
    ) -> None:
        self.supervisor = supervisor
        self.policy = policy
        self.ledger = ledger
        self.transcript = transcript
        self.events = events
        self.spending = spending
        self.log = log

    def maybe_check_in(self, researcher: Researcher) -> None:
        """A periodic or stall review when one is due; its words reach the Researcher as a user message."""
        trigger = self.policy.check_in_trigger(self.spending.steps, self.ledger.records)
        if trigger is None:
            return
        review = self.consult(trigger)
        if review is not None:
            researcher.add_user(review.message)

    def consult(self, trigger: str, finish_summary: dict[str, Any] | None = None) -> SupervisorReview | None:
        """One Supervisor intervention; None when it could not be reached (recorded as an error)."""
        at_simulation = self.ledger.count
        try:
            review = self.supervisor.review(
                trigger, self.transcript.events(), self.ledger.records, finish_summary
            )
        except Exception as exc:  # noqa: BLE001 - a Supervisor failure must not end the context
            detail = f"Supervisor unavailable ({trigger}): {type(exc).__name__}: {exc}"
            self.events.error(detail, agent="supervisor", trigger=trigger, at_simulation=at_simulation)
            self.policy.note(trigger, at_simulation, delivered=False)
            self.log.warning("supervisor.failed", trigger=trigger, error=str(exc))
            return None
        self.spending.record_model_call("supervisor", review.response)
        self.events.supervisor(
            trigger=trigger,
            verdict=review.verdict,
            text=review.text,
            message=review.message,
            delivered="tool_result" if trigger == FINISH else "user",
            at_simulation=at_simulation,
        )
        self.policy.note(trigger, at_simulation, delivered=True)
        return review
