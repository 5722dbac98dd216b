"""The interface of a *designed* replica scheduler: which waiting requests a replica admits, in what order.

A replica (one GPU running one inference engine) forms a batch before every iteration. The mechanism is
Sarathi's chunked prefill and is fixed (``llmsim/replica_schedulers/designed.py``):

1. every running decode gets one token (KV blocks reserved first; if the cache is full the youngest
   running request is preempted and goes back to the front of the waiting queue, to be recomputed);
2. prefills already admitted get chunks of the iteration's token budget, oldest first;
3. **the policy** is shown the replica's state and returns waiting requests to admit now, in order;
   each is admitted (blocks for its whole prefill, a chunk of the remaining budget) in that order,
   until the first one that does not fit: too few free blocks above the watermark, the running
   count at ``batch_cap``, or no token budget left. The rest stay waiting.

The policy is asked only when at least one waiting request could be admitted (budget left, a free
running slot, and the smallest waiting prefill fits); otherwise the iteration is formed without it.
FCFS (``return list(replica.waiting)``) is exactly the built-in ``sarathi`` scheduler.

A policy sees a ``ReplicaState``: an immutable snapshot of its replica at that moment, and its waiting
requests as read-only request views (``llmsim/views.py``: id, arrival time, prompt and prefill tokens,
restarts). Decode lengths are hidden, as from routers: reading ``num_decode_tokens`` invalidates the
run. One policy object serves one replica for the whole run (``self.replica_id``); ``self.rng`` is a
``random.Random`` seeded from the design seed and the replica id. In Glia's trusted evaluation the
policy runs in a process of its own and receives exactly these snapshots.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmsim.views import RequestView


@dataclass(frozen=True)
class ReplicaState:
    """What a policy knows about its replica when a batch is being formed (values at that moment)."""

    replica_id: int
    now: float  # simulated seconds
    waiting: tuple[RequestView, ...]  # queue order: preempted requests first, then routing order
    num_running: int  # admitted requests holding KV blocks (prefilling + decoding)
    num_prefilling: int  # admitted, prompt not yet fully processed
    num_decoding: int  # generating tokens
    num_free_blocks: int  # after this iteration's decode blocks were reserved
    num_blocks: int
    block_size: int  # tokens per KV block
    watermark_blocks: int  # blocks an admission must leave free
    token_budget: int  # tokens left in this iteration after the decodes and running prefills
    batch_cap: int  # most requests running at once

    @property
    def slots_left(self) -> int:
        return self.batch_cap - self.num_running

    def blocks_needed(self, request: RequestView) -> int:
        """KV blocks admitting `request` takes: its whole prefill (prompt, plus what it recomputes)."""
        return -(-request.num_prefill_tokens // self.block_size)

    def fits(self, request: RequestView, free_blocks: int | None = None) -> bool:
        """Whether `request` could be admitted with `free_blocks` free (default: the replica's now)."""
        free = self.num_free_blocks if free_blocks is None else free_blocks
        return free - self.blocks_needed(request) >= self.watermark_blocks


class ReplicaPolicy(ABC):
    """Base class of designed replica schedulers (see the module docstring)."""

    name = "base"

    def __init__(self, replica_id: int, seed: int = 0) -> None:
        self.replica_id = replica_id
        self.rng = random.Random(f"{seed}:{replica_id}")

    @abstractmethod
    def select(self, replica: ReplicaState) -> list[RequestView]:
        """Waiting requests (from ``replica.waiting``) to admit now, in the order to admit them."""
