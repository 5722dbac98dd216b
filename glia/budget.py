"""The shared budget of one run: dollars, simulations, wall time and tokens.

Every context of a run charges the same `Budget`, so MCG-Par-N spends one pool rather than N pools, and
a resumed run keeps counting from where it stopped (`usage()` goes into run.json, `used=` restores it).
Steps are not here: they limit one context and travel in `ContextSpec.max_steps`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

log = structlog.get_logger()

TIME_LIMIT = "time_limit"
SIMULATION_BUDGET = "simulation_budget"
DOLLAR_BUDGET = "dollar_budget"
TOKEN_BUDGET = "token_budget"
BUDGET_REASONS = (TIME_LIMIT, SIMULATION_BUDGET, DOLLAR_BUDGET, TOKEN_BUDGET)


class LimitsLike(Protocol):
    """The fields of `glia.task.BudgetLimits` the budget reads; None means unlimited."""

    dollars: float | None
    simulations: int | None
    wall_time_s: float | None
    tokens: int | None


class Budget:
    """Thread-safe counters against the run's limits.

    `clock` is injectable so tests can move time; `used` is a previous `usage()` so that a resumed run
    starts with the dollars, simulations, tokens and wall time already spent.
    """

    def __init__(
        self,
        limits: LimitsLike,
        clock: Callable[[], float] = time.monotonic,
        used: dict[str, Any] | None = None,
    ) -> None:
        used = used or {}
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._simulations = int(used.get("simulations", 0))
        self._dollars = float(used.get("dollars", 0.0))
        self._tokens = int(used.get("tokens", 0))
        self._unpriced_calls = int(used.get("unpriced_calls", 0))
        self._seconds_before = float(used.get("wall_time_s", 0.0))
        self._uncounted = int(used.get("uncounted_simulations", 0))
        self._uncounted_cpu_s = float(used.get("uncounted_cpu_s", 0.0))
        self._started = clock()
        self._reported_hit: str | None = None

    # -- charging ---------------------------------------------------------------------------------

    def charge_cost(self, usd: float | None, tokens: int) -> None:
        """Record one model call. `usd=None` means the price is unknown: only its tokens count."""
        with self._lock:
            self._tokens += max(0, int(tokens))
            if usd is None:
                first_unpriced = self._unpriced_calls == 0
                self._unpriced_calls += 1
            else:
                first_unpriced = False
                self._dollars += max(0.0, float(usd))
        if first_unpriced:
            log.warning("budget.cost_unknown", note=self._cost_unknown_note())

    def charge_simulations(self, n: int) -> int:
        """Record `n` simulator runs; returns the run's total so far (the x axis of the progress plot)."""
        with self._lock:
            self._simulations += max(0, int(n))
            return self._simulations

    def try_charge_simulation(self) -> int | None:
        """Charge one simulation unless the simulation limit is reached; returns the run's total, or
        None when refused. Check and charge are one step, so concurrent contexts never overshoot."""
        with self._lock:
            limit = self.limits.simulations
            if limit is not None and self._simulations >= limit:
                return None
            self._simulations += 1
            return self._simulations

    def charge_uncounted(self, n: int, cpu_s: float) -> int:
        """Charge `n` simulations for `cpu_s` CPU-seconds a sandbox used that its counted simulations
        and allowance do not explain (`glia.agents.cpu_backstop`). Never refused: the compute already
        happened, so the total may pass the limit, which then ends the run like any spent budget."""
        with self._lock:
            self._simulations += max(0, int(n))
            self._uncounted += max(0, int(n))
            self._uncounted_cpu_s += max(0.0, float(cpu_s))
            return self._simulations

    # -- reading ----------------------------------------------------------------------------------

    @property
    def cost_known(self) -> bool:
        """False once any call had no known price: the dollar total is then only a lower bound."""
        with self._lock:
            return self._unpriced_calls == 0

    @property
    def simulations_used(self) -> int:
        with self._lock:
            return self._simulations

    def elapsed_s(self) -> float:
        """Wall time of the run, including the time spent before a resume."""
        return self._seconds_before + max(0.0, self._clock() - self._started)

    def exhausted(self) -> str | None:
        """The first limit reached, or None. Logged once, the first time a limit is seen reached."""
        reason = self._first_reached_limit()
        if reason is None:
            return None
        with self._lock:
            first_time = self._reported_hit is None
            if first_time:
                self._reported_hit = reason
        if first_time:
            log.info("budget.exhausted", reason=reason, usage=self.usage())
        return reason

    def remaining(self) -> dict[str, float | int | None]:
        """What is left of each limit (None = unlimited); never negative. Told to the Researcher."""
        limits = self.limits
        with self._lock:
            simulations, dollars, tokens = self._simulations, self._dollars, self._tokens
        return {
            "simulations": _left(limits.simulations, simulations),
            "dollars": _left(limits.dollars, dollars),
            "seconds": _left(limits.wall_time_s, self.elapsed_s()),
            "tokens": _left(limits.tokens, tokens),
        }

    def usage(self) -> dict[str, Any]:
        """Everything spent so far, in the shape `Budget(used=...)` restores."""
        with self._lock:
            return {
                "simulations": self._simulations,
                "dollars": round(self._dollars, 6),
                "tokens": self._tokens,
                "wall_time_s": round(self.elapsed_s(), 3),
                "cost_known": self._unpriced_calls == 0,
                "unpriced_calls": self._unpriced_calls,
                "uncounted_simulations": self._uncounted,
                "uncounted_cpu_s": round(self._uncounted_cpu_s, 3),
            }

    def notes(self) -> list[str]:
        """Plain sentences for run.json `notes` (e.g. that the dollar total is incomplete)."""
        notes = [] if self.cost_known else [self._cost_unknown_note()]
        with self._lock:
            uncounted, cpu_s = self._uncounted, self._uncounted_cpu_s
        if uncounted:
            notes.append(
                f"Uncounted compute: {uncounted} simulation(s) were charged for {cpu_s:.1f} CPU-seconds "
                "that sandboxes used beyond what their counted simulations and commands explain."
            )
        return notes

    def for_context(
        self,
        index: int,
        on_simulation: Callable[[int, int], None] | None = None,
        history: list[int] | None = None,
    ) -> ContextBudget:
        """A view of this budget for one context, recording what that context spent.

        `history` is the run totals of the context's earlier simulations (from run.json, on resume).
        """
        return ContextBudget(self, index, on_simulation, history)

    # -- internals --------------------------------------------------------------------------------

    def _first_reached_limit(self) -> str | None:
        limits = self.limits
        with self._lock:
            simulations, dollars, tokens = self._simulations, self._dollars, self._tokens
        if limits.simulations is not None and simulations >= limits.simulations:
            return SIMULATION_BUDGET
        if limits.dollars is not None and dollars >= limits.dollars:
            return DOLLAR_BUDGET
        if limits.tokens is not None and tokens >= limits.tokens:
            return TOKEN_BUDGET
        if limits.wall_time_s is not None and self.elapsed_s() >= limits.wall_time_s:
            return TIME_LIMIT
        return None

    def _cost_unknown_note(self) -> str:
        if self.limits.tokens is not None:
            guard = f"the token limit ({self.limits.tokens:,} tokens) guards the spend instead"
        else:
            guard = "no token limit is set, so unpriced calls are not limited"
        return (
            "Some model calls had no known price: the dollar figures count priced calls only and "
            f"the dollar limit may be passed unnoticed; {guard}."
        )


class ContextBudget:
    """One context's window on the shared budget: charges go to the pool and are tallied per context.

    It also remembers the run's simulation total after each of this context's simulations, so that a
    context's k-th simulation can be placed on the run's progress axis afterwards.
    """

    def __init__(
        self,
        shared: Budget,
        index: int,
        on_simulation: Callable[[int, int], None] | None = None,
        history: list[int] | None = None,
    ) -> None:
        self.shared = shared
        self.index = index
        self._on_simulation = on_simulation
        self._lock = threading.Lock()
        self.simulations = 0
        self.dollars = 0.0
        self.tokens = 0
        self.uncounted = 0  # simulations charged for CPU time the counted ones do not explain
        self.run_totals_after_simulation: list[int] = list(history or [])

    @property
    def limits(self) -> LimitsLike:
        return self.shared.limits

    @property
    def cost_known(self) -> bool:
        return self.shared.cost_known

    def charge_cost(self, usd: float | None, tokens: int) -> None:
        self.shared.charge_cost(usd, tokens)
        with self._lock:
            self.tokens += max(0, int(tokens))
            if usd is not None:
                self.dollars += max(0.0, float(usd))

    def charge_simulations(self, n: int) -> int:
        total = self.shared.charge_simulations(n)
        with self._lock:
            first = total - max(0, int(n)) + 1
            self.run_totals_after_simulation.extend(range(first, total + 1))
            self.simulations += max(0, int(n))
        if self._on_simulation is not None and n > 0:
            self._on_simulation(self.index, total)
        return total

    def try_charge_simulation(self) -> int | None:
        """`Budget.try_charge_simulation`, tallied for this context when it is granted."""
        total = self.shared.try_charge_simulation()
        if total is None:
            return None
        with self._lock:
            self.run_totals_after_simulation.append(total)
            self.simulations += 1
        if self._on_simulation is not None:
            self._on_simulation(self.index, total)
        return total

    def charge_uncounted(self, n: int, cpu_s: float) -> int:
        """`Budget.charge_uncounted`, tallied for this context (not a simulation of its ledger)."""
        total = self.shared.charge_uncounted(n, cpu_s)
        with self._lock:
            self.uncounted += max(0, int(n))
        return total

    def run_total_at(self, simulation_index: int) -> int | None:
        """The run's simulation count when this context ran its `simulation_index`-th (1-based) run."""
        with self._lock:
            if 1 <= simulation_index <= len(self.run_totals_after_simulation):
                return self.run_totals_after_simulation[simulation_index - 1]
        return None

    def exhausted(self) -> str | None:
        return self.shared.exhausted()

    def remaining(self) -> dict[str, float | int | None]:
        return self.shared.remaining()

    def usage(self) -> dict[str, Any]:
        return self.shared.usage()

    def elapsed_s(self) -> float:
        return self.shared.elapsed_s()


def _left(limit: float | int | None, used: float | int) -> float | int | None:
    if limit is None:
        return None
    return max(limit - used, 0)
