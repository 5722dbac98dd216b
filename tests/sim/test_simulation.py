"""Whole-simulation invariants: completion, KV bounds, determinism, skip-ahead equivalence."""

import contextlib
import time

import pandas as pd
import pytest
from llmsim.config import SimulationConfig
from llmsim.errors import InvariantViolation, SafetyLimitError, UnfinishedRequestsError, WorkloadError
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.kv_cache import BlockAllocator
from llmsim.metrics import request_metrics, summarize
from llmsim.simulator import Simulator

from tests.sim.conftest import make_requests, run_sim, small_workload

OUTCOME = [
    "replica_id",
    "request_e2e_time",
    "ttft",
    "tpot",
    "request_scheduling_delay",
    "request_execution_time",
    "request_preemption_time",
    "request_num_restarts",
    "completed_at",
]


class LeastBlocksRouter(GlobalScheduler):
    """Reads what skip-ahead must keep exact mid-run: allocated blocks and processed tokens."""

    def schedule(self):
        def load(rid):
            replica = self.replicas[rid]
            progress = sum(r.num_processed_tokens for r in replica.active_requests)
            return (replica.num_allocated_blocks, progress % 7, rid)

        return self.route_all(lambda request: min(self.replicas, key=load))


@pytest.mark.parametrize("router", ["llq", "round_robin", "lor", "random"])
def test_every_request_completes_and_kv_stays_in_bounds(router):
    sim = run_sim(small_workload(duration=120, seed=2), router=router, num_blocks=600)  # memory pressure
    metrics = request_metrics(sim.requests)
    assert metrics.completed_at.notna().all()
    assert (metrics.request_e2e_time > 0).all()
    assert (metrics.ttft <= metrics.request_e2e_time).all()
    assert (metrics.request_scheduling_delay >= 0).all()
    assert (metrics.request_scheduling_delay <= metrics.ttft).all()
    logs = sim.result.logs.gs_frame()
    assert logs.num_allocated_blocks.between(0, logs.num_blocks).all()
    assert all(r.allocator.num_allocated == 0 for r in sim.replicas.values())
    assert sim.result.num_preemptions > 0  # the workload does exercise preemption
    assert metrics.request_num_restarts.sum() == sim.result.num_preemptions


def test_allocator_refuses_to_exceed_capacity_or_go_negative():
    allocator = BlockAllocator(num_blocks=10, block_size=16, watermark_blocks=1)
    allocator.allocate(10)
    with pytest.raises(InvariantViolation):
        allocator.allocate(1)
    allocator.free(10)
    with pytest.raises(InvariantViolation):
        allocator.free(1)
    assert allocator.can_admit(16 * 9) and not allocator.can_admit(16 * 9 + 1)


def test_same_seed_gives_identical_results():
    first = request_metrics(run_sim(small_workload(duration=120, seed=4), router="random", seed=4).requests)
    second = request_metrics(run_sim(small_workload(duration=120, seed=4), router="random", seed=4).requests)
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    other = request_metrics(
        run_sim(small_workload(duration=120, seed=4), router="random", seed=4, router_seed=5).requests
    )
    assert not other.replica_id.equals(first.replica_id)  # the router's own seed, not the workload's


@pytest.mark.parametrize("scheduler", ["sarathi", "vllm"])
@pytest.mark.parametrize(
    "router, router_cls", [("llq", None), ("random", None), ("lor", None), ("ai", LeastBlocksRouter)]
)
def test_skip_ahead_gives_exactly_the_step_by_step_results(scheduler, router, router_cls):
    results = {}
    for skip in (True, False):
        sim = run_sim(
            small_workload(duration=90, seed=1),
            router_cls,
            router=router,
            replica_scheduler=scheduler,
            skip_ahead=skip,
            num_blocks=700,
        )
        results[skip] = (request_metrics(sim.requests)[OUTCOME], sim.result)
    (fast, fast_result), (slow, slow_result) = results[True], results[False]
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    pd.testing.assert_frame_equal(fast_result.logs.gs_frame(), slow_result.logs.gs_frame(), check_exact=True)
    assert fast_result.num_iterations == slow_result.num_iterations
    assert fast_result.num_preemptions == slow_result.num_preemptions > 0
    assert fast_result.num_events < slow_result.num_events / 3  # and it really skipped


def test_summary_counts_every_request():
    sim = run_sim(small_workload(duration=60, seed=0), router="llq")
    summary = summarize(request_metrics(sim.requests))
    assert summary["num_requests"] == summary["num_completed"] == 450
    assert 0 <= summary["frac_restarted"] <= 1
    assert summary["p50_e2e"] <= summary["p90_e2e"] <= summary["p99_e2e"]


def test_runaway_simulation_stops_at_the_simulated_time_limit():
    with pytest.raises(SafetyLimitError, match="simulated time passed the safety limit of 30 s"):
        run_sim(small_workload(duration=60), router="llq", max_simulated_time=30)


def test_the_time_limit_counts_cpu_seconds_and_the_wall_clock_only_guards_hangs(monkeypatch):
    from llmsim import cpu_limits

    class BusyRouter(GlobalScheduler):
        def schedule(self):
            end = time.process_time() + 0.002
            while time.process_time() < end:
                pass
            return self.route_all(lambda request: 0)

    class SleepyRouter(GlobalScheduler):
        def schedule(self):
            time.sleep(0.002)  # no CPU: only the hang guard (10 x the limit, wall clock) stops it
            return self.route_all(lambda request: 0)

    with monkeypatch.context() as patch:  # however loaded the machine, the CPU-time limit is what stops it
        patch.setattr(cpu_limits, "WALL_FACTOR", 1000.0)
        with pytest.raises(SafetyLimitError, match=r"CPU-time limit of 0\.4 s reached"):
            run_sim(
                small_workload(duration=400), BusyRouter, router="ai", time_limit=0.4, check_invariants=False
            )
    # The CPU time is this process's: in a test runner other threads (a Ray driver, servers of earlier
    # tests) add some, so the sleepy run gets a CPU limit it cannot reach before its hang guard.
    started = time.perf_counter()
    with (
        monkeypatch.context() as patch,
        pytest.raises(SafetyLimitError, match="wall-clock hang guard of 3 s"),
    ):
        patch.setattr(cpu_limits, "WALL_FACTOR", 3.0)
        run_sim(
            small_workload(duration=400), SleepyRouter, router="ai", time_limit=1.0, check_invariants=False
        )
    assert 3.0 <= time.perf_counter() - started < 20.0


def test_requests_stuck_on_replicas_fail_the_run_with_the_count(monkeypatch):
    from llmsim import simulator
    from llmsim.replica_schedulers import Batch, SarathiScheduler

    class NeverAdmitsLongPrompts(SarathiScheduler):
        def form_batch(self, replica, now):
            if replica.waiting and replica.waiting[0].num_prompt_tokens > 200:
                return Batch()  # a broken batch scheduler: the replica goes idle with work queued
            return super().form_batch(replica, now)

    monkeypatch.setitem(simulator.REPLICA_SCHEDULERS, "broken", NeverAdmitsLongPrompts)
    requests = small_workload(duration=30)
    stuck = {r.id for r in requests if r.num_prompt_tokens > 200}
    with pytest.raises(
        UnfinishedRequestsError, match=r"did not complete \(0 never routed, \d+ stuck on replicas\)"
    ):
        run_sim(requests, router="round_robin", replica_scheduler="broken")
    assert stuck and not any(r.is_completed for r in requests if r.id in stuck)


def test_a_router_stuck_in_a_loop_is_stopped_by_the_wall_clock_limit():
    class Spins(GlobalScheduler):
        def schedule(self):
            spins = 0
            while True:
                with contextlib.suppress(Exception):  # swallowing exceptions does not keep it alive
                    spins += 1
                    spins -= 1

    with pytest.raises(SafetyLimitError, match="stuck in a single call"):
        run_sim(small_workload(duration=10), Spins, router="ai", time_limit=0.5)


def test_request_larger_than_a_replica_is_rejected_up_front():
    requests = make_requests([(0.0, 30000, 10000)])
    with pytest.raises(WorkloadError, match="request 0 needs 40000 tokens"):
        Simulator(SimulationConfig(router="llq"), requests)
