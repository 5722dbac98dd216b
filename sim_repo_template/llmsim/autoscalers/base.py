"""The autoscaler interface: how many replicas the cluster should run, decided every few seconds.

Replicas have a life cycle (``llmsim/cluster.py``): a replica that is *added* starts **starting** (the
GPU is allocated and paid for while the engine loads the model: the cold start), becomes **active** when
ready (the router may send it requests), and when *removed* becomes **draining** (the router no longer
sees it; it finishes every request it holds, waiting ones included) and is **released** when empty.
Removing a replica that is still starting cancels it at once. GPU-hours count every replica from the
moment it was added until it is released (or the run ends), cold start included.

Every ``interval`` seconds the simulator calls ``scale(cluster)`` with a ``ClusterState``: an immutable
snapshot of every replica that is not yet released (its state, queues, memory, and the tokens it
generated, prompt tokens it processed and requests it completed during the last interval), the requests
held by the router, the arrivals and completions of the last interval, and the limits. ``scale`` returns
either

* an ``int``: the number of replicas wanted (starting + active). It is clamped to
  ``[min_replicas, max_replicas]``; more replicas are added, or the surplus is removed: starting ones
  first (newest first), then the active ones with the fewest requests in flight (the highest id on a
  tie), always keeping one active replica; or
* a ``ScalingDecision(add=n, remove=(ids...))``: add n replicas and remove exactly those (starting or
  active) replicas. It must leave at least one active replica and between ``min_replicas`` and
  ``max_replicas`` replicas starting or active; otherwise the run is invalid.

The autoscaler sees no request contents and no decode lengths; in Glia's trusted evaluation it runs in a
process of its own and receives exactly these snapshots. ``self.rng`` is seeded with the design seed.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass

from llmsim.autoscalers.states import ACTIVE, DRAINING, STARTING


@dataclass(frozen=True)
class ReplicaStatus:
    """One replica as the autoscaler sees it (counts over the last interval)."""

    replica_id: int
    state: str  # "starting", "active" or "draining"
    provisioned_at: float  # when it was added (GPU time counts from here)
    ready_at: float  # when it became, or will become, active
    num_pending_requests: int  # routed here, waiting for KV memory
    num_active_requests: int  # holding KV memory (prefilling or decoding)
    num_allocated_blocks: int
    num_blocks: int
    decode_tokens: int  # output tokens generated during the last interval
    prefill_tokens: int  # prompt tokens processed during the last interval
    completed: int  # requests completed during the last interval

    @property
    def num_in_flight(self) -> int:
        return self.num_pending_requests + self.num_active_requests

    @property
    def memory_usage_percent(self) -> float:
        return 100.0 * self.num_allocated_blocks / self.num_blocks


@dataclass(frozen=True)
class ClusterState:
    """The cluster when ``scale`` is called."""

    now: float
    interval: float  # seconds covered by the per-interval counts (the time since the previous call)
    replicas: tuple[ReplicaStatus, ...]  # every replica not yet released, by id
    num_held: int  # requests the router holds (not yet sent to any replica)
    arrivals: int  # requests that arrived during the last interval
    completions: int  # requests that completed during the last interval
    min_replicas: int
    max_replicas: int
    cold_start: float  # seconds from adding a replica until it is active

    def _in(self, state: str) -> tuple[ReplicaStatus, ...]:
        return tuple(r for r in self.replicas if r.state == state)

    @property
    def active(self) -> tuple[ReplicaStatus, ...]:
        return self._in(ACTIVE)

    @property
    def starting(self) -> tuple[ReplicaStatus, ...]:
        return self._in(STARTING)

    @property
    def draining(self) -> tuple[ReplicaStatus, ...]:
        return self._in(DRAINING)

    @property
    def num_replicas(self) -> int:
        """Replicas that count toward the target: starting and active."""
        return sum(1 for r in self.replicas if r.state != DRAINING)

    @property
    def num_in_flight(self) -> int:
        """Requests in the system: held by the router or on any replica."""
        return self.num_held + sum(r.num_in_flight for r in self.replicas)


@dataclass(frozen=True)
class ScalingDecision:
    """Add `add` replicas; remove the replicas in `remove` (starting ones are cancelled, active ones drained)."""

    add: int = 0
    remove: tuple[int, ...] = ()


class Autoscaler(ABC):
    """Base class of autoscalers (see the module docstring)."""

    name = "base"

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    @abstractmethod
    def scale(self, cluster: ClusterState) -> int | ScalingDecision:
        """The replica count wanted, or explicit add / remove actions."""
