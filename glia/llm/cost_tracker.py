"""Running totals of model usage and dollars, per agent and context, safe across threads.

Parallel contexts (MCG-Par-N) record into one tracker; budgets read totals from it. Calls whose price
is unknown are counted separately so a dollar budget knows when it must fall back to tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from glia.llm.types import LLMResponse, Usage


@dataclass
class CostTotals:
    """Sums over a set of calls. `cost_usd` covers priced calls only; see `unpriced_calls`."""

    calls: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    retries: int = 0

    def add(self, other: CostTotals) -> None:
        self.calls += other.calls
        self.usage = self.usage + other.usage
        self.cost_usd += other.cost_usd
        self.unpriced_calls += other.unpriced_calls
        self.retries += other.retries

    @property
    def fully_priced(self) -> bool:
        return self.unpriced_calls == 0


class CostTracker:
    """Accumulates `LLMResponse` usage under (agent, context) keys; totals can be filtered by either."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[tuple[str, str], CostTotals] = {}

    def record(self, response: LLMResponse, *, agent: str = "", context: str = "") -> None:
        entry = CostTotals(
            calls=1,
            usage=response.usage,
            cost_usd=response.cost_usd or 0.0,
            unpriced_calls=int(response.cost_usd is None),
            retries=response.retries,
        )
        with self._lock:
            self._totals.setdefault((agent, context), CostTotals()).add(entry)

    def totals(self, *, agent: str | None = None, context: str | None = None) -> CostTotals:
        """Totals over every call, or only those of one agent and/or one context."""
        result = CostTotals()
        with self._lock:
            for (entry_agent, entry_context), entry in self._totals.items():
                if agent is not None and entry_agent != agent:
                    continue
                if context is not None and entry_context != context:
                    continue
                result.add(entry)
        return result

    @property
    def cost_usd(self) -> float:
        return self.totals().cost_usd

    def keys(self) -> list[tuple[str, str]]:
        """The (agent, context) pairs seen so far, for per-agent / per-context reports."""
        with self._lock:
            return sorted(self._totals)
