"""The one place that says what "better", "feasible" and "best" mean."""

from __future__ import annotations

import math

import pytest

from glia.metric import Constraint, Metric, MetricError

LATENCY = Metric("mean_e2e", "minimize", "s")
THROUGHPUT = Metric(
    "throughput", "maximize", "req/s", constraints=(Constraint.parse("p90_ttft <= 1.5"),), report=("p90_e2e",)
)


def test_direction_decides_better_and_improvement() -> None:
    assert LATENCY.better(30.0, 40.0) and not LATENCY.better(40.0, 30.0) and not LATENCY.better(30.0, 30.0)
    assert THROUGHPUT.better(6.0, 5.0) and not THROUGHPUT.better(5.0, 6.0)
    assert LATENCY.improvement(30.0, 40.0) == pytest.approx(0.25)
    assert THROUGHPUT.improvement(6.0, 5.0) == pytest.approx(0.2)
    assert LATENCY.improvement(50.0, 40.0) == pytest.approx(-0.25)
    assert LATENCY.improvement(None, 40.0) is None and LATENCY.improvement(1.0, 0.0) is None
    assert LATENCY.target(40.0, 0.3) == pytest.approx(28.0)
    assert THROUGHPUT.target(5.0, 0.2) == pytest.approx(6.0)
    assert LATENCY.better(1.0, None) and not LATENCY.better(math.nan, 2.0)


def test_constraints_parse_hold_and_explain() -> None:
    slo = Constraint.parse(" p90_ttft<=1.5 ")
    assert (slo.key, slo.op, slo.bound) == ("p90_ttft", "<=", 1.5) and str(slo) == "p90_ttft <= 1.5"
    assert slo.holds(1.5) and not slo.holds(1.51) and not slo.holds(None) and not slo.holds(math.inf)
    assert slo.violation(1.72) == "p90_ttft = 1.72, required <= 1.5"
    assert THROUGHPUT.violations({"p90_ttft": 2.0}) == ["p90_ttft = 2, required <= 1.5"]
    assert THROUGHPUT.violations({}) == ["p90_ttft = not measured, required <= 1.5"]
    assert THROUGHPUT.keys == ("throughput", "p90_ttft", "p90_e2e")
    for bad in ("p90_ttft = 1", "p90 <= fast", "<= 3", "x <= inf"):
        with pytest.raises(MetricError):
            Constraint.parse(bad)
    with pytest.raises(MetricError):
        Metric("x", "lower")


def test_a_feasible_design_always_outranks_an_infeasible_one() -> None:
    designs = [
        ("fast but breaks the SLO", 9.0, {"p90_ttft": 2.0}),
        ("slower, within the SLO", 6.0, {"p90_ttft": 1.2}),
        ("slowest, within the SLO", 5.0, {"p90_ttft": 0.9}),
        ("unmeasured", None, {"p90_ttft": 0.5}),
    ]
    best = THROUGHPUT.best(designs, score=lambda d: d[1], feasible=lambda d: THROUGHPUT.feasible(d[2]))
    assert best[0] == "slower, within the SLO"
    only_infeasible = [designs[0], ("worse and infeasible", 8.0, {"p90_ttft": 3.0})]
    chosen = THROUGHPUT.best(only_infeasible, score=lambda d: d[1], feasible=lambda d: False)
    assert chosen[0] == "fast but breaks the SLO"  # with nothing feasible, the objective decides
    ties = [("first", 3.0), ("second", 3.0)]
    assert LATENCY.best(ties, score=lambda d: d[1])[0] == "first"
    assert LATENCY.best([], score=lambda d: d) is None


def test_metric_round_trips_through_its_record() -> None:
    assert Metric.from_dict(THROUGHPUT.to_dict()) == THROUGHPUT
    assert Metric.from_dict({"name": "mean_e2e", "direction": "minimize"}) == Metric("mean_e2e", "minimize")
    assert THROUGHPUT.describe() == "maximize throughput (req/s) subject to p90_ttft <= 1.5"
