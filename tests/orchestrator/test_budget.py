"""The shared budget: each limit, what remains, restoring usage on resume, unknown prices, threads."""

from __future__ import annotations

import threading

import pytest

from glia.budget import Budget
from glia.task import BudgetLimits


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_unlimited_budget_is_never_exhausted() -> None:
    budget = Budget(BudgetLimits())
    budget.charge_cost(1e6, 10**9)
    budget.charge_simulations(10**6)
    assert budget.exhausted() is None
    assert budget.remaining() == {"simulations": None, "dollars": None, "seconds": None, "tokens": None}


def test_simulation_limit_is_reached_at_the_limit_not_before() -> None:
    budget = Budget(BudgetLimits(simulations=3))
    assert budget.charge_simulations(2) == 2
    assert budget.exhausted() is None
    assert budget.remaining()["simulations"] == 1
    assert budget.charge_simulations(1) == 3
    assert budget.exhausted() == "simulation_budget"
    assert budget.remaining()["simulations"] == 0


def test_dollar_limit() -> None:
    budget = Budget(BudgetLimits(dollars=2.0))
    budget.charge_cost(1.25, 100)
    assert budget.exhausted() is None
    assert budget.remaining()["dollars"] == pytest.approx(0.75)
    budget.charge_cost(0.75, 100)
    assert budget.exhausted() == "dollar_budget"
    assert budget.remaining()["dollars"] == 0


def test_time_limit_follows_the_clock() -> None:
    clock = FakeClock()
    budget = Budget(BudgetLimits(wall_time_s=60), clock=clock)
    clock.now += 59.5
    assert budget.exhausted() is None
    assert budget.remaining()["seconds"] == pytest.approx(0.5)
    clock.now += 0.5
    assert budget.exhausted() == "time_limit"


def test_token_limit_guards_spend_when_prices_are_unknown() -> None:
    budget = Budget(BudgetLimits(dollars=1.0, tokens=5000))
    budget.charge_cost(None, 3000)
    assert budget.cost_known is False
    assert budget.exhausted() is None
    budget.charge_cost(None, 2000)
    assert budget.exhausted() == "token_budget"
    assert budget.usage()["dollars"] == 0.0
    assert budget.usage()["unpriced_calls"] == 2
    (note,) = budget.notes()
    assert "no known price" in note and "token limit (5,000 tokens)" in note


def test_unknown_price_without_token_limit_says_nothing_guards_it() -> None:
    budget = Budget(BudgetLimits(dollars=1.0))
    budget.charge_cost(0.25, 10)
    assert budget.cost_known and budget.notes() == []
    budget.charge_cost(None, 10)
    assert "no token limit is set" in budget.notes()[0]
    assert budget.usage()["dollars"] == 0.25


def test_usage_restores_on_resume_including_wall_time() -> None:
    clock = FakeClock()
    first = Budget(BudgetLimits(simulations=10, wall_time_s=100), clock=clock)
    first.charge_simulations(4)
    first.charge_cost(1.5, 700)
    first.charge_cost(None, 300)
    clock.now += 30
    used = first.usage()
    assert used == {"simulations": 4, "dollars": 1.5, "tokens": 1000, "wall_time_s": 30.0,
                    "cost_known": False, "unpriced_calls": 1,
                    "uncounted_simulations": 0, "uncounted_cpu_s": 0.0}  # fmt: skip

    clock.now += 5000  # the run sat interrupted for a long time: that does not count
    second = Budget(BudgetLimits(simulations=10, wall_time_s=100), clock=clock, used=used)
    assert second.remaining()["simulations"] == 6
    assert second.remaining()["seconds"] == pytest.approx(70)
    assert second.cost_known is False
    clock.now += 70
    assert second.exhausted() == "time_limit"


def test_charges_from_many_threads_are_all_counted() -> None:
    budget = Budget(BudgetLimits())
    views = [budget.for_context(k) for k in range(1, 9)]
    start = threading.Barrier(len(views))

    def spend(view) -> None:
        start.wait()
        for _ in range(2000):
            view.charge_simulations(1)
            view.charge_cost(0.001, 3)

    threads = [threading.Thread(target=spend, args=(view,)) for view in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = budget.usage()
    assert usage["simulations"] == 16_000
    assert usage["tokens"] == 48_000
    assert usage["dollars"] == pytest.approx(16.0)
    for view in views:
        assert view.simulations == 2000
        assert view.dollars == pytest.approx(2.0)
        # every run total a context saw is distinct across contexts: the counter never lost an update
    totals = [t for view in views for t in view.run_totals_after_simulation]
    assert sorted(totals) == list(range(1, 16_001))


def test_context_view_places_its_simulations_on_the_run_axis() -> None:
    budget = Budget(BudgetLimits(simulations=10))
    seen: list[tuple[int, int]] = []
    one = budget.for_context(1, on_simulation=lambda k, total: seen.append((k, total)))
    two = budget.for_context(2, history=[1, 2])
    budget.charge_simulations(2)  # e.g. two simulations of context 2 before a resume
    one.charge_simulations(1)
    two.charge_simulations(1)
    one.charge_simulations(1)
    assert seen == [(1, 3), (1, 5)]
    assert one.run_total_at(1) == 3 and one.run_total_at(2) == 5 and one.run_total_at(3) is None
    assert two.run_total_at(3) == 4
    assert one.remaining()["simulations"] == 5
    assert one.limits.simulations == 10
