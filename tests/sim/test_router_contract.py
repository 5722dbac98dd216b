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


class CountsCalls(HoldsUntilIdle):
    """Records, at each call, whether it held requests when the call came."""

    def schedule(self):
        self.calls = getattr(self, "calls", 0) + 1
        return super().schedule()


def test_a_holding_router_is_called_on_completions_and_everything_completes():
    sim = run_sim(workload(), CountsCalls, router="ai")
    assert all(r.is_completed for r in sim.requests)
    assert max(r.routed_at - r.arrived_at for r in sim.requests) > 1.0  # it really held requests
    # called on every arrival, plus on completions while it held requests
    assert sim.router.router.calls == sim.result.num_router_calls > len(sim.requests)


class NeverHolds(GlobalScheduler):
    def schedule(self):
        self.calls = getattr(self, "calls", 0) + 1
        return self.route_all(lambda request: request.id % self.num_replicas)


def test_a_router_holding_nothing_is_not_called_on_completions():
    sim = run_sim(workload(), NeverHolds, router="ai")
    assert sim.router.router.calls == sim.result.num_router_calls == len(sim.requests)


class HoldsWhileIdleThenReleases(GlobalScheduler):
    """Holds everything until a quiet period: only idle ticks can wake it up after the last arrival."""

    def schedule(self):
        replicas_busy = any(r.num_active_requests or r.num_pending_requests for r in self.replicas.values())
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


# ---- the decode length is reachable by no attribute name, and the guard cannot be switched off ----


class ReadsTotalTokensByBuiltName(GlobalScheduler):
    """Reaches behind its view to the simulator's request (possible only in process) and computes the
    decode length from the private total, named at run time."""

    def schedule(self):
        name = "_".join(["", "total", "tokens"])
        return self.route_all(
            lambda view: (getattr(view._request, name) - view.num_prompt_tokens) % self.num_replicas
        )


class ReadsAnySlotByBuiltName(GlobalScheduler):
    """Reads every slot of its views and of the simulator requests behind them (reachable only in
    process): the slot holding the total has no name."""

    def schedule(self):
        self.seen = getattr(self, "seen", [])
        for view in self.request_queue:
            for target in (view, view._request):
                for name in type(target).__slots__:
                    if name != "_total_tokens":
                        with contextlib.suppress(AttributeError):
                            self.seen.append((name, getattr(target, name)))
        return self.route_all(lambda request: 0)


def test_scanning_every_slot_of_a_request_finds_no_decode_length():
    sim = run_sim(workload(), ReadsAnySlotByBuiltName, router="ai")
    readable = {name for name, _ in sim.router.router.seen}
    assert "id" in readable and "_hidden_total" not in readable  # the run is valid, the total unreachable


class ReadsCompletionSchedule(GlobalScheduler):
    """Asks a replica's decode pool when its next decode finishes (that encodes decode lengths)."""

    def schedule(self):
        for replica in self.replicas.values():
            replica._replica.pool.next_finish_iteration()  # behind the view: possible only in process
        return self.route_all(lambda request: 0)


class FlipsTheGuardAttribute(GlobalScheduler):
    def schedule(self):
        import llmsim.router_guard as guard_module

        guard_module.ROUTER_GUARD.active = False
        return self.route_all(lambda request: request.num_decode_tokens % self.num_replicas)


class ReplacesTheGuard(GlobalScheduler):
    """Rebinds every guard-looking module name to a permissive stand-in, then reads decode lengths."""

    def schedule(self):
        import llmsim.request as request_module
        import llmsim.router_guard as guard_module
        import llmsim.router_slot as router_slot_module
        import llmsim.simulator as simulator_module

        class Off:
            active = False
            violations: list = []

            def enter(self):
                return None

            def leave(self, token):
                return []

        for module in (guard_module, request_module, router_slot_module, simulator_module):
            module.ROUTER_GUARD = Off()
        guard_module.hide_slot = None
        return self.route_all(lambda request: request.num_decode_tokens % self.num_replicas)


class EntersTheGuardItself(GlobalScheduler):
    def schedule(self):
        import llmsim.router_guard as guard_module

        guard_module.ROUTER_GUARD.enter()
        return self.route_all(lambda request: 0)


@pytest.mark.parametrize(
    "router_cls, error, message",
    [
        (
            ReadsTotalTokensByBuiltName,
            HiddenInformationError,
            "router read _total_tokens of request 0: decode",
        ),
        (ReadsCompletionSchedule, HiddenInformationError, "completion schedule: decode lengths are unknown"),
        (FlipsTheGuardAttribute, RouterError, "AttributeError: the router guard cannot be modified"),
        (ReplacesTheGuard, HiddenInformationError, "router read num_decode_tokens of request 0"),
        (EntersTheGuardItself, RouterError, "tampered with the simulator's router guard"),
    ],
)
def test_decode_lengths_stay_hidden_however_a_router_reaches_for_them(router_cls, error, message):
    import llmsim.request as request_module
    import llmsim.router_guard as guard_module
    import llmsim.router_slot as router_slot_module
    import llmsim.simulator as simulator_module

    modules = (guard_module, request_module, router_slot_module, simulator_module)
    saved = {m: dict(vars(m)) for m in modules}
    try:
        with pytest.raises(error, match=message):
            run_sim(workload(), router_cls, router="ai")
        # a later, honest run is guarded as before (nothing the bad router did leaked into it)
        with pytest.raises(HiddenInformationError):
            run_sim(workload(), ReadsDecodeLength, router="ai")
    finally:
        for module, names in saved.items():
            vars(module).update(names)


def test_no_attribute_of_a_request_or_pool_holds_the_decode_length():
    """Outside router code the simulator still knows the totals, but not through any slot name."""
    from llmsim.decode_pool import DecodePool
    from llmsim.request import Request

    request = Request(0, 0.0, 100, 37)
    for cls in (Request, DecodePool):
        for name in cls.__slots__:
            if name.startswith("_hidden"):
                assert not hasattr(cls, name)
    values = [getattr(request, name, None) for name in Request.__slots__]
    assert 137 not in values and 37 not in values
    assert request.num_decode_tokens == 37 and request._total_tokens == 137  # simulator side


def test_the_router_view_is_public_names_only():
    """Everything a router is meant to read has a public name (the evaluator rejects `_private` reads)."""
    sim = run_sim(workload(), router="llq")
    replica = sim.replicas[0]
    for name in (
        "num_pending_requests",
        "pending_requests",
        "num_active_requests",
        "active_requests",
        "num_allocated_blocks",
        "num_free_blocks",
        "num_blocks",
        "block_size",
        "memory_usage_percent",
    ):
        getattr(replica, name)
    request = sim.requests[0]
    for name in (
        "id",
        "arrived_at",
        "num_prompt_tokens",
        "num_prefill_tokens",
        "num_processed_tokens",
        "num_restarts",
        "is_prefill_complete",
    ):
        getattr(request, name)
