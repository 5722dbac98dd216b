"""Autoscaling invariants: no request is lost when replicas drain, GPU-hours are the replicas'
lifetimes (cold starts included), only active replicas receive requests, decisions are checked."""

import math

import numpy as np
import pytest
from llmsim.autoscalers.base import Autoscaler, ScalingDecision
from llmsim.config import SimulationConfig
from llmsim.errors import AutoscalerError
from llmsim.metrics import request_metrics
from llmsim.runner import build_simulator, load_workload, metrics_of, summary_of
from llmsim.sources import requests_from_frame

from tests.sim.design_helpers import fixture_class, run_with


def sinusoid(duration=600.0, period=600.0, seed=1):
    return requests_from_frame(
        load_workload(SimulationConfig(arrivals="sinusoid", duration=duration, period=period, seed=seed))
    )


class Seesaw(Autoscaler):
    """Adds two replicas every other call and removes the two busiest-looking ones in between: lots of
    starts, cancels and drains with requests still on them."""

    def __init__(self, seed=0):
        super().__init__(seed)
        self.calls = 0

    def scale(self, cluster):
        self.calls += 1
        if self.calls % 2:
            return ScalingDecision(add=2)
        starting = [r.replica_id for r in cluster.starting][:1]
        active = sorted(cluster.active, key=lambda r: -r.num_in_flight)
        drained = [r.replica_id for r in active[: max(0, min(2, len(active) - 1))]]
        if cluster.num_replicas - len(starting) - len(drained) < cluster.min_replicas:
            return ScalingDecision()
        return ScalingDecision(remove=tuple(starting + drained))


def run_seesaw(duration=600.0, **extra):
    return run_with(sinusoid(duration, duration), router="llq", autoscaler_cls=Seesaw, max_replicas=12,
                    cold_start=20, autoscale_interval=10, **extra)  # fmt: skip


def test_draining_replicas_lose_no_request_and_gpu_hours_add_up():
    sim = run_seesaw()
    result = sim.result
    lifetimes = sim.cluster.lifetimes
    drained = [rid for rid, life in lifetimes.items() if life.drained_at is not None]
    cancelled = [rid for rid, life in lifetimes.items() if life.cancelled]
    assert len(drained) > 5 and cancelled
    # every request completed, and on the replica it was routed to (draining never moves or drops one)
    assert all(r.completed_at is not None for r in result.requests)
    routed = {row[2]: row[1] for row in result.logs.reqs}
    assert all(routed[r.id] == r.replica_id for r in result.requests)
    # a drained replica received nothing after it started draining, and finished what it held
    for rid in drained:
        life = lifetimes[rid]
        assert all(t <= life.drained_at for t, replica, *_ in result.logs.reqs if replica == rid)
        served = [r for r in result.requests if r.replica_id == rid]
        assert life.released_at is not None and all(r.completed_at <= life.released_at for r in served)
    # a replica got requests only while active: after its cold start, before draining
    for t, rid, *_ in result.logs.reqs:
        life = lifetimes[rid]
        assert life.ready_at <= t and (life.drained_at is None or t <= life.drained_at)
        assert not life.cancelled
    # GPU-hours: the sum of lifetimes up to the last completion, cold starts included
    end = max(r.completed_at for r in result.requests)
    by_hand = 0.0
    for life in lifetimes.values():
        stop = end if life.released_at is None else min(life.released_at, end)
        by_hand += stop - life.provisioned_at
        if not life.cancelled and life.provisioned_at > 0:
            assert life.ready_at == pytest.approx(life.provisioned_at + 20)  # the cold start
    assert result.gpu_hours == pytest.approx(by_hand / 3600, rel=1e-12)
    assert result.gpu_hours == pytest.approx(sum(row[6] for row in result.logs.replicas) / 3600, rel=1e-12)
    assert result.num_scale_ups == sum(row[5] for row in result.logs.scaling)


def test_autoscaled_runs_are_exact_with_and_without_skip_ahead():
    fast = run_seesaw(240.0, skip_ahead=True, check_invariants=False)
    slow = run_seesaw(240.0, skip_ahead=False, check_invariants=True)
    assert request_metrics(fast.result.requests).equals(request_metrics(slow.result.requests))
    assert fast.result.gpu_hours == slow.result.gpu_hours
    assert fast.result.logs.scaling == slow.result.logs.scaling


def test_a_target_count_is_clamped_and_reached_through_the_life_cycle():
    class WantsFifty(Autoscaler):
        def scale(self, cluster):
            return 50 if cluster.now < 200 else 2

    sim = run_with(sinusoid(duration=400, period=400), router="llq", autoscaler_cls=WantsFifty, max_replicas=9,
                   cold_start=30)  # fmt: skip
    scaling = sim.result.logs.scaling
    assert max(row[1] + row[2] for row in scaling) == 9  # clamped to max_replicas
    assert sim.result.max_replicas_used == 9
    late = [row for row in scaling if row[0] >= 260]
    assert late and all(row[1] + row[2] == 2 for row in late)  # down to the target of 2


class Bad(Autoscaler):
    def __init__(self, seed=0, decision=None):
        super().__init__(seed)
        self.decision = decision

    def scale(self, cluster):
        return self.decision(cluster)


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (lambda c: ScalingDecision(remove=(99,)), "remove replica 99, which is not starting or active"),
        (lambda c: ScalingDecision(remove=tuple(r.replica_id for r in c.active)), "every active replica"),
        (lambda c: ScalingDecision(add=40), "leaves 44 replicas; allowed 1..32"),
        (lambda c: ScalingDecision(add=-1), "add -1 replicas"),
        (lambda c: ScalingDecision(remove=(0, 0)), "twice"),
        (lambda c: "three", "must return an int or a ScalingDecision"),
        (lambda c: True, "must return an int or a ScalingDecision"),
        (lambda c: 1 / 0, "autoscaler scale\\(\\) raised ZeroDivisionError"),
    ],
)
def test_invalid_decisions_invalidate_the_run(decide, message):
    cls = type("B", (Bad,), {"__init__": lambda self, seed=0: Bad.__init__(self, seed, decide)})
    with pytest.raises(AutoscalerError, match=message):
        run_with(sinusoid(duration=120, period=120), router="llq", autoscaler_cls=cls, max_replicas=32)


def test_the_autoscaler_sees_interval_counts_that_add_up():
    seen = []

    class Watches(Autoscaler):
        def scale(self, cluster):
            seen.append(cluster)
            return cluster.num_replicas

    sim = run_with(
        sinusoid(duration=300, period=300), router="llq", autoscaler_cls=Watches, check_invariants=False
    )
    requests = sim.result.requests
    assert [round(c.now, 6) for c in seen[:3]] == [15.0, 30.0, 45.0] and all(c.interval == 15.0 for c in seen)
    total_arrivals = sum(c.arrivals for c in seen)
    assert total_arrivals == sum(1 for r in requests if r.arrived_at <= seen[-1].now)
    completed = sum(sum(r.completed for r in c.replicas) for c in seen)
    assert completed == sum(c.completions for c in seen)
    tokens = sum(sum(r.decode_tokens for r in c.replicas) for c in seen)
    done_by_then = [r for r in requests if r.completed_at <= seen[-1].now]
    assert tokens >= sum(r._total_tokens - r.num_prompt_tokens for r in done_by_then)
    assert seen[-1].now < max(r.completed_at for r in requests) + 15  # no calls once the work is done


def test_threshold_baseline_and_inflight_fixture_scale_with_the_load():
    """Both grow the cluster through the rising half of the day and shrink it after (short version)."""
    fixture = fixture_class("inflight_autoscaler.py", "AIAutoscaler")
    for name, cls in (("threshold", None), ("ai", fixture)):
        config = SimulationConfig(router="llq", autoscaler=name, arrivals="sinusoid", period=900, duration=900,
                                  qps_low=7.5, qps_high=22.5, max_replicas=32, seed=3)  # fmt: skip
        simulator = build_simulator(config, autoscaler_cls=cls)
        result = simulator.run()
        sizes = [(row[0], row[1] + row[2]) for row in result.logs.scaling]
        peak_size = max(size for t, size in sizes if 350 <= t <= 650)
        assert peak_size >= 8 and sizes[0][1] <= 5, name
        summary = summary_of(result, metrics_of(result, config))
        assert summary["num_scale_ups"] > 3 and summary["num_scale_downs"] > 0, name
        assert math.isfinite(summary["gpu_hours"]) and np.isfinite(summary["p95_slowdown"])


def test_leaving_out_the_router_log_changes_nothing_but_the_files(tmp_path):
    from llmsim.runner import run_and_record

    folders = []
    for log in (True, False):
        config = SimulationConfig(router="llq", autoscaler="threshold", arrivals="sinusoid", duration=300,
                                  period=300, router_log=log, output_root=str(tmp_path / str(log)))  # fmt: skip
        folder, summary = run_and_record(config)
        assert summary["valid"]
        folders.append(folder)
    assert (folders[0] / "gs_log.csv").exists() and not (folders[1] / "gs_log.csv").exists()
    for name in ("request_metrics.csv", "scaling_log.csv", "replicas.csv", "reqs_log.csv"):
        assert (folders[0] / name).read_text() == (folders[1] / name).read_text(), name
