"""Routers are checked at run time: hidden decode lengths, bad decisions, holding and stranding."""

import contextlib

import pytest
from llmsim.errors import HiddenInformationError, RouterError, UnfinishedRequestsError
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.global_schedulers.registry import ROUTERS

from tests.sim.conftest import run_sim, small_workload


def workload():
    return small_workload(duration=30, seed=3)


class ReadsDecodeLength(GlobalScheduler):
    def schedule(self):
        return self.route_all(lambda request: request.num_decode_tokens % self.num_replicas)


class ReadsDecodeLengthQuietly(GlobalScheduler):
    def schedule(self):
        for request in self.request_queue:
            with contextlib.suppress(Exception):
                _ = request.num_decode_tokens
        return self.route_all(lambda request: 0)


class PeeksAtActiveDecodeLengths(GlobalScheduler):
    def schedule(self):
        for replica in self.replicas.values():
            for request in replica.active_requests:
                _ = getattr(request, "num_decode_tokens", None)
        return self.route_all(lambda request: 0)


class PeeksWhenQueued(GlobalScheduler):
    def add_request(self, request):
        self.sizes = getattr(self, "sizes", []) + [request.num_decode_tokens]
        super().add_request(request)

    def schedule(self):
        return self.route_all(lambda request: 0)


class Raises(GlobalScheduler):
    def schedule(self):
        raise ZeroDivisionError("oops")


class UnknownReplica(GlobalScheduler):
    def schedule(self):
        return self.route_all(lambda request: 7)


class ForeignRequest(GlobalScheduler):
    """Routes each request, then sends the first one again on a later call."""

    def schedule(self):
        decisions = self.route_all(lambda request: 0)
        if hasattr(self, "_first"):
            return decisions + [(1, self._first)]
        self._first = decisions[0][1]
        return decisions


class Twice(GlobalScheduler):
    def schedule(self):
        decisions = self.route_all(lambda request: 0)
        return decisions + decisions[:1]


class LeavesInQueue(GlobalScheduler):
    def schedule(self):
        return [(0, request) for request in self.request_queue]


class Drops(GlobalScheduler):
    def schedule(self):
        self.request_queue.clear()
        return []


class NotPairs(GlobalScheduler):
    def schedule(self):
        return [self.request_queue.pop()]


@pytest.mark.parametrize(
    "router_cls, error, message",
    [
        (ReadsDecodeLength, HiddenInformationError, "router read num_decode_tokens of request 0"),
        (ReadsDecodeLengthQuietly, HiddenInformationError, "decode lengths are unknown"),
        (PeeksAtActiveDecodeLengths, HiddenInformationError, "num_decode_tokens"),
        (PeeksWhenQueued, HiddenInformationError, "num_decode_tokens of request 0"),
        (Raises, RouterError, "router schedule\\(\\) raised ZeroDivisionError: oops"),
        (UnknownReplica, RouterError, "unknown replica 7"),
        (ForeignRequest, RouterError, "returned request 0, which is not in its request_queue"),
        (Twice, RouterError, "returned request 0 twice"),
        (LeavesInQueue, RouterError, "routed request 0 but left it in request_queue"),
        (Drops, RouterError, "removed request 0 from request_queue without routing it"),
        (NotPairs, RouterError, "expected \\(replica_id, request\\) pairs"),
    ],
)
def test_bad_routers_fail_the_run_with_a_message_naming_the_problem(router_cls, error, message):
    with pytest.raises(error, match=message):
        run_sim(workload(), router_cls, router="ai")


@pytest.mark.parametrize("name", sorted(ROUTERS))
def test_shipped_routers_never_read_decode_lengths(name):
    sim = run_sim(workload(), router=name)
    assert all(r.is_completed for r in sim.requests)


class HoldsUntilIdle(GlobalScheduler):
    """Admission control: dispatch only to a replica with no queue and under 5 active requests."""

    def schedule(self):
        decisions = []
        for rid, replica in sorted(self.replicas.items()):
            if self.request_queue and replica.num_pending_requests == 0 and replica.num_active_requests < 5:
                decisions.append((rid, self.request_queue.pop(0)))
        return decisions


def test_a_holding_router_is_called_on_completions_and_everything_completes():
    sim = run_sim(workload(), HoldsUntilIdle, router="ai")
    assert all(r.is_completed for r in sim.requests)
    assert max(r.routed_at - r.arrived_at for r in sim.requests) > 1.0  # it really held requests
    distinct_completion_times = len({r.completed_at for r in sim.requests})
    assert (
        sim.result.num_router_calls >= len(sim.requests) + distinct_completion_times
    )  # arrivals and completions


class HoldsWhileIdleThenReleases(GlobalScheduler):
    """Holds everything until a quiet period: only idle ticks can wake it up after the last arrival."""

    def schedule(self):
        replicas_busy = any(r.busy for r in self.replicas.values())
        if replicas_busy or len(self.request_queue) < 10 and not getattr(self, "_ticks", 0) > 3:
            self._ticks = getattr(self, "_ticks", 0) + (not replicas_busy)
            return []
        self._ticks = 0
        return self.route_all(lambda request: request.id % self.num_replicas)


def test_idle_ticks_wake_a_router_holding_requests_on_an_idle_cluster():
    sim = run_sim(workload(), HoldsWhileIdleThenReleases, router="ai")
    assert all(r.is_completed for r in sim.requests)


class HoldsForever(GlobalScheduler):
    def schedule(self):
        return [] if self.request_queue[-1].id >= 20 else self.route_all(lambda request: 0)


def test_a_router_stranding_requests_fails_loudly_with_the_count():
    with pytest.raises(UnfinishedRequestsError, match=r"router stranded 205 requests"):
        run_sim(workload(), HoldsForever, router="ai", max_idle_ticks=50)


def test_a_router_failing_in_its_constructor_is_named():
    class BrokenInit(GlobalScheduler):
        def __init__(self, replicas, seed=0):
            raise KeyError("missing table")

        def schedule(self):
            return []

    with pytest.raises(RouterError, match="router __init__ raised KeyError: 'missing table'"):
        run_sim(workload(), BrokenInit, router="ai")
