"""The router interface (vidur calls it the global scheduler).

The simulator calls ``schedule()`` after every request arrival, after every request completion while
the router holds requests, and on idle ticks while requests are held and no replica is busy. New
requests are appended to ``self.request_queue`` (by ``add_request``) before the call. ``schedule()``
returns ``(replica_id, request)`` pairs and must remove exactly those requests from
``self.request_queue``. Requests it leaves in the queue are *held* (admission control) and offered
again at the next call.

What a router may read is listed in ``llmsim/views.py``: ``self.replicas`` maps replica ids to
read-only replica views, and requests are read-only request views. The router never holds the
simulator's own objects; in Glia's trusted evaluation it runs in a separate process that receives
exactly those views. Reading ``num_decode_tokens`` raises ``HiddenInformationError`` and invalidates the
run; so does a router that raises, returns an unknown replica, a request not in its queue, or a request
twice (``global_schedulers/contract.py``). ``self.rng`` is seeded with the router seed
(``--router-seed``), which is independent of the workload. With an autoscaler, ``self.replicas`` holds
the replicas the router may use at the moment (active ones): the same dict gains a replica when its cold
start ends and loses one when it starts draining. ``self.now`` is the simulated time (seconds) of the
current call: the arrival time in ``add_request``, the decision time in ``schedule`` (for aging, waits).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmsim.views import ReplicaView, RequestView


class GlobalScheduler(ABC):
    name = "base"
    now: float = 0.0  # the simulated time in seconds, set by the simulator before every call

    def __init__(self, replicas: dict[int, ReplicaView], seed: int = 0):
        self.replicas = replicas
        self.request_queue: list[RequestView] = []
        self.rng = random.Random(seed)  # routers that randomise use this, so runs are reproducible

    @property
    def num_replicas(self) -> int:
        return len(self.replicas)

    def add_request(self, request: RequestView) -> None:
        self.request_queue.append(request)

    @abstractmethod
    def schedule(self) -> list[tuple[int, RequestView]]:
        """Return (replica_id, request) decisions and pop those requests from ``request_queue``."""

    def route_all(self, choose_replica) -> list[tuple[int, RequestView]]:
        """Helper for routers that never hold: route every queued request (oldest first) with
        ``choose_replica(request) -> replica_id`` and empty the queue."""
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            decisions.append((choose_replica(request), request))
        return decisions
