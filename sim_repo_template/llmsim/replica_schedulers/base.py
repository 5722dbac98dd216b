"""The replica (batch) scheduler interface: which requests run in a replica's next iteration.

A replica scheduler only *decides*; the replica (llmsim/replica.py) owns the state and offers the
operations a decision needs: ``reserve_decode_blocks`` (with youngest-first preemption),
``can_admit`` / ``admit`` and the queues. To write a new policy, subclass ``ReplicaScheduler``,
implement ``form_batch`` and register it in ``replica_schedulers/__init__.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from llmsim.kv_cache import BlockAllocator
    from llmsim.request import Request


class Replica(Protocol):
    """What a replica offers the scheduler that forms its batches (``llmsim/replica.py`` implements it).
    Schedulers see only this, so they sit below the replica instead of importing it."""

    waiting: deque[Request]  # routed here, no KV memory yet (new or preempted), in queue order
    prefilling: list[Request]  # admitted, prefill not finished, in arrival order
    allocator: BlockAllocator
    queue_epoch: int  # changes whenever the queues change

    @property
    def num_active_requests(self) -> int: ...

    @property
    def num_decoding(self) -> int: ...

    def reserve_decode_blocks(self, now: float) -> None: ...

    def can_admit(self, request: Request) -> bool: ...

    def admit(self, request: Request, now: float) -> None: ...

    def preempt(self, request: Request, now: float) -> None: ...


@dataclass
class Batch:
    """One iteration's work: prefill chunks of some requests, plus (optionally) one decode token for
    every request in the replica's decode phase (``runs_decodes``)."""

    prefill_chunks: list[tuple[Request, int]] = field(default_factory=list)
    runs_decodes: bool = False

    def is_empty(self, num_decoding: int) -> bool:
        return not self.prefill_chunks and not (self.runs_decodes and num_decoding)


class ReplicaScheduler(ABC):
    """Base class. ``batch_cap``: most requests running at once; ``chunk_size``: token budget."""

    name = "base"

    def __init__(self, batch_cap: int = 128, chunk_size: int = 8192):
        self.batch_cap = batch_cap
        self.chunk_size = chunk_size

    @abstractmethod
    def form_batch(self, replica: Replica, now: float) -> Batch:
        """Build the next iteration's batch (may admit and preempt). An empty batch leaves the
        replica idle until a new request is routed to it."""

    def can_repeat_decode_batch(self, replica: Replica, batch: Batch) -> bool:
        """True if, with no new request routed here, the next ``form_batch`` calls would produce the
        same decode-only batch until a decode request completes or the KV cache runs out. Returning
        True lets the replica skip ahead over those identical iterations (pure speed-up). The safe
        default is False (step by step)."""
        return False

    def _admission_blocked(self, replica: Replica) -> bool:
        """No waiting request can be admitted now, nor while free memory only shrinks."""
        if not replica.waiting or replica.num_active_requests >= self.batch_cap:
            return True
        return not replica.can_admit(replica.waiting[0])
