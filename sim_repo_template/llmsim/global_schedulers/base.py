"""The router interface (vidur calls it the global scheduler).

The simulator calls ``schedule()`` after every request arrival and every request completion (and on
idle ticks while requests are held and no replica is busy). New requests are appended to
``self.request_queue`` before the call. ``schedule()`` returns ``(replica_id, request)`` pairs and
must remove exactly those requests from ``self.request_queue``. Requests it leaves in the queue are
*held* (admission control) and offered again at the next call.

What a router may read:
* ``self.replicas``: ``{replica_id: Replica}``; per replica ``pending_requests`` /
  ``num_pending_requests`` (routed, waiting for KV memory), ``active_requests`` /
  ``num_active_requests`` (holding KV memory), ``num_allocated_blocks``, ``num_free_blocks``,
  ``num_blocks``, ``block_size``, ``memory_usage_percent``;
* per request: ``id``, ``arrived_at``, ``num_prompt_tokens``, ``num_prefill_tokens`` (prompt plus
  tokens to recompute after a restart), ``num_processed_tokens``, ``num_restarts``,
  ``is_prefill_complete``.
Reading ``num_decode_tokens`` (or anything else that reveals a decode length, such as the private
``_total_tokens``, however it is named) raises ``HiddenInformationError`` and invalidates the run;
so does a router that raises, returns an unknown replica, a request not in its queue, or a request
twice. Every field above has a public name: routers must not read other objects' ``_private``
attributes.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmsim.replica import Replica
    from llmsim.request import Request


class GlobalScheduler(ABC):
    name = "base"

    def __init__(self, replicas: dict[int, Replica], seed: int = 0):
        self.replicas = replicas
        self.request_queue: list[Request] = []
        self.rng = random.Random(seed)  # routers that randomise use this, so runs are reproducible

    @property
    def num_replicas(self) -> int:
        return len(self.replicas)

    def add_request(self, request: Request) -> None:
        self.request_queue.append(request)

    @abstractmethod
    def schedule(self) -> list[tuple[int, Request]]:
        """Return (replica_id, request) decisions and pop those requests from ``request_queue``."""

    def route_all(self, choose_replica) -> list[tuple[int, Request]]:
        """Helper for routers that never hold: route every queued request (oldest first) with
        ``choose_replica(request) -> replica_id`` and empty the queue."""
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            decisions.append((choose_replica(request), request))
        return decisions
