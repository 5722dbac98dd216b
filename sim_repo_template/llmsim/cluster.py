"""The cluster's membership: which replicas exist, which the router may use, and what they cost.

Without an autoscaler the cluster is fixed: ``num_replicas`` replicas, active from t = 0 to the end.
With one, replicas move through a life cycle (see ``llmsim/autoscalers/base.py``):

    provision ──cold start──► active ──drain──► draining ──(empty)──► released
        └────────────── cancel (while starting) ─────────────────────► released

Only active replicas are *accepting*: the router sees exactly those. A draining replica keeps and
finishes every request it holds, so scaling down never loses a request. GPU time is counted per replica
from provisioning to release, cold start and draining included; a replica still alive when the
workload is done is counted until the last request completes (``gpu_seconds(end)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmsim.autoscalers.states import ACTIVE, DRAINING, RELEASED, STARTING
from llmsim.errors import InvariantViolation
from llmsim.replica import Replica


@dataclass
class Lifetime:
    replica_id: int
    provisioned_at: float
    ready_at: float  # when it became (or will become) active
    drained_at: float | None = None  # when it stopped accepting requests
    released_at: float | None = None
    cancelled: bool = False  # removed while still starting
    activated: bool = False

    @property
    def state(self) -> str:
        if self.released_at is not None:
            return RELEASED
        if self.drained_at is not None:
            return DRAINING
        return ACTIVE if self.activated else STARTING

    def seconds(self, end: float) -> float:
        """GPU seconds up to `end` (the run's last completion)."""
        stop = end if self.released_at is None else min(self.released_at, end)
        return max(0.0, stop - self.provisioned_at)


class Cluster:
    """Replicas by id (every one ever made), the accepting ones, and their lifetimes."""

    def __init__(self, make_replica: Callable[[int], Replica], initial: int, cold_start: float) -> None:
        if initial < 1:
            raise ValueError(f"a cluster needs at least one replica, got {initial}")
        self._make_replica = make_replica
        self.cold_start = cold_start
        self.replicas: dict[int, Replica] = {}
        self.accepting: dict[int, Replica] = {}
        self.lifetimes: dict[int, Lifetime] = {}
        for _ in range(initial):
            self.activate(self.provision(0.0, ready_at=0.0), 0.0)

    # ---- life cycle -----------------------------------------------------------------------------

    def provision(self, now: float, ready_at: float | None = None) -> int:
        """A new replica, starting; returns its id (ids are never reused)."""
        rid = len(self.lifetimes)
        self.replicas[rid] = self._make_replica(rid)
        ready = now + self.cold_start if ready_at is None else ready_at
        self.lifetimes[rid] = Lifetime(rid, now, ready)
        return rid

    def activate(self, rid: int, now: float) -> None:
        life = self._expect(rid, STARTING)
        life.activated = True
        life.ready_at = now
        self.accepting[rid] = self.replicas[rid]

    def cancel(self, rid: int, now: float) -> None:
        """Remove a replica that is still starting: released at once."""
        life = self._expect(rid, STARTING)
        life.cancelled = True
        life.released_at = now

    def drain(self, rid: int, now: float) -> None:
        life = self._expect(rid, ACTIVE)
        life.drained_at = now
        del self.accepting[rid]
        self.replicas[rid].draining = True

    def release(self, rid: int, now: float) -> None:
        replica = self.replicas[rid]
        if replica.busy or replica.waiting or replica.running or replica.allocator.num_allocated:
            raise InvariantViolation(f"replica {rid} released while it still holds requests")
        self._expect(rid, DRAINING).released_at = now

    # ---- queries ----------------------------------------------------------------------------------

    def state(self, rid: int) -> str:
        return self.lifetimes[rid].state

    def live(self) -> list[int]:
        """Ids of the replicas not yet released, in id order."""
        return [rid for rid, life in self.lifetimes.items() if life.released_at is None]

    def count(self, state: str) -> int:
        return sum(1 for life in self.lifetimes.values() if life.state == state)

    def gpu_seconds(self, end: float) -> float:
        return sum(life.seconds(end) for life in self.lifetimes.values())

    def _expect(self, rid: int, state: str) -> Lifetime:
        life = self.lifetimes.get(rid)
        if life is None or life.state != state:
            found = "no such replica" if life is None else life.state
            raise InvariantViolation(f"replica {rid} should be {state}, but is {found}")
        return life
