"""What a context has spent: its Researcher turns, dollars and tokens, each model call charged to the budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from glia.llm.types import LLMResponse
from glia.record.writer import EventWriter

if TYPE_CHECKING:
    from glia.record.view import ContextView


class CostBudget(Protocol):
    def charge_cost(self, usd: float | None, tokens: int) -> None: ...


class Spending:
    """The context's counters, kept with the `model_call` events that record them."""

    def __init__(self, budget: CostBudget, events: EventWriter) -> None:
        self.budget = budget
        self.events = events
        self.steps = 0
        self.cost_usd = 0.0
        self.tokens = 0

    def record_model_call(self, agent: str, response: LLMResponse) -> None:
        tokens = self.events.model_call(agent, response)
        self.budget.charge_cost(response.cost_usd, tokens)
        self.cost_usd += response.cost_usd or 0.0
        self.tokens += tokens

    def restore(self, earlier: ContextView) -> None:
        """Take over an earlier session's counts from the fold of its events (a `ContextView`)."""
        self.steps = earlier.turns
        self.cost_usd = earlier.cost_usd
        self.tokens = earlier.tokens
