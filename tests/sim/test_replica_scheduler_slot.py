"""The designed replica scheduler: its contract, the decode-length guard, and exactness."""

import pytest
from llmsim.config import SimulationConfig
from llmsim.errors import HiddenInformationError, SchedulerError
from llmsim.metrics import request_metrics
from llmsim.replica_schedulers.ai_replica_scheduler import AIReplicaScheduler
from llmsim.replica_schedulers.policy import ReplicaPolicy
from llmsim.runner import simulate

from tests.sim.conftest import make_requests, run_sim, small_workload
from tests.sim.design_helpers import fixture_class, run_with


def load_fixture():
    return fixture_class("spf_replica_scheduler.py", "AIReplicaScheduler")


def test_the_shipped_design_is_fcfs_exactly_like_sarathi():
    config = dict(router="llq", duration=300, seed=1)
    designed = simulate(SimulationConfig(replica_scheduler="ai", **config))
    builtin = simulate(SimulationConfig(replica_scheduler="sarathi", **config))
    assert request_metrics(designed.requests).equals(request_metrics(builtin.requests))
    assert designed.num_preemptions == builtin.num_preemptions > 0


def test_shortest_prefill_first_admits_out_of_queue_order():
    # one replica, a giant prefilling (it takes every iteration's token budget), then a long and a short
    # request queued behind it: when the budget frees, FCFS gives it to the long one first
    requests = make_requests([(0.0, 20000, 400), (0.01, 15000, 10), (0.02, 50, 10)])
    fcfs = run_sim(list(requests), router="llq", num_replicas=1, replica_scheduler="ai")
    spf = run_with(make_requests([(0.0, 20000, 400), (0.01, 15000, 10), (0.02, 50, 10)]), router="llq",
                   num_replicas=1, scheduler_policy=load_fixture())  # fmt: skip
    assert fcfs.requests[2].scheduled_at > fcfs.requests[1].scheduled_at  # FCFS: in arrival order
    assert spf.requests[2].scheduled_at == spf.requests[1].scheduled_at  # same batch, short one first
    assert spf.requests[2].first_token_at < fcfs.requests[2].first_token_at - 0.5


def test_skip_ahead_is_exact_for_a_policy_that_holds_requests():
    class HoldsBigOnes(ReplicaPolicy):
        def select(self, replica):
            # admit short prompts at once; long ones only when the replica is nearly idle
            return [r for r in replica.waiting if r.num_prefill_tokens < 400 or replica.num_running < 3]

    results = []
    for skip in (True, False):
        sim = run_with(small_workload(duration=120, seed=5), router="llq", scheduler_policy=HoldsBigOnes,
                       skip_ahead=skip, check_invariants=not skip)  # fmt: skip
        results.append(request_metrics(sim.requests))
    assert results[0].equals(results[1])


class ReadsDecodeLength(ReplicaPolicy):
    def select(self, replica):
        return sorted(replica.waiting, key=lambda r: r.num_decode_tokens)


class ReturnsAStranger(ReplicaPolicy):
    def __init__(self, replica_id, seed=0):
        super().__init__(replica_id, seed)
        self.seen = []

    def select(self, replica):
        self.seen.extend(replica.waiting)
        stale = [r for r in self.seen if r not in replica.waiting]
        return stale[:1] or list(replica.waiting)


class ReturnsTwice(ReplicaPolicy):
    def select(self, replica):
        return list(replica.waiting[:1]) * 2


class ReturnsNone(ReplicaPolicy):
    def select(self, replica):
        return None


class Raises(ReplicaPolicy):
    def select(self, replica):
        return 1 / 0


@pytest.mark.parametrize(
    ("policy", "error", "message"),
    [
        (ReadsDecodeLength, HiddenInformationError, "replica scheduler read num_decode_tokens of request"),
        (ReturnsAStranger, SchedulerError, "which is not waiting on replica"),
        (ReturnsTwice, SchedulerError, "returned request .* twice"),
        (ReturnsNone, SchedulerError, "returned None"),
        (Raises, SchedulerError, "replica scheduler select\\(\\) raised ZeroDivisionError"),
    ],
)
def test_contract_breaches_invalidate_the_run(policy, error, message):
    with pytest.raises(error, match=message):
        run_with(small_workload(duration=60), router="llq", scheduler_policy=policy)


def test_the_policy_sees_the_exact_replica_snapshot():
    snapshots = []

    class Records(AIReplicaScheduler):
        def select(self, replica):
            snapshots.append(replica)
            waiting_blocks = [replica.blocks_needed(r) for r in replica.waiting]
            assert waiting_blocks == [-(-r.num_prefill_tokens // 16) for r in replica.waiting]
            assert replica.slots_left == replica.batch_cap - replica.num_running
            return super().select(replica)

    run_with(small_workload(duration=60), router="llq", scheduler_policy=Records)
    assert snapshots and all(s.token_budget <= 8192 and s.watermark_blocks == 23 for s in snapshots)
    assert all(any(s.fits(r) for r in s.waiting) for s in snapshots)  # asked only when something fits
    with pytest.raises(Exception, match="cannot assign"):
        snapshots[0].num_free_blocks = 10**6
