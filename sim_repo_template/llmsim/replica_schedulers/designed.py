"""The mechanism around a designed replica scheduler: Sarathi's chunked prefill, admissions by the policy.

Batches are formed exactly as ``sarathi.py`` forms them (decodes, then running prefills, then new
admissions), except that *which waiting requests are admitted, and in what order* comes from the design's
policy (``policy.py``), reached through a scheduler slot (in this process, or in a sandbox of its own).
The replica applies the answer: admissions in the policy's order until the first that does not fit.

Asking the policy costs a call (a round trip when it runs in its own process), so it is asked only
when its answer can matter: some waiting request could be admitted now, and the replica's queues changed
since the policy last admitted nothing. While only time passes and memory fills (identical decode
iterations), an earlier "nothing now" stands; a request arriving, finishing its prefill, completing or
being preempted changes the queues, and the policy is asked again at the next batch. That rule is also
what lets the replica skip ahead over identical decode iterations with results identical to
``--no-skip-ahead``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from llmsim.replica_schedulers.base import Batch, Replica, ReplicaScheduler

if TYPE_CHECKING:
    from llmsim.request import Request


class PolicySlot(Protocol):
    def select(self, replica: Replica, now: float, budget: int, batch_cap: int) -> list[Request]: ...

    def close(self) -> None: ...


class DesignedScheduler(ReplicaScheduler):
    name = "ai"

    def __init__(self, batch_cap: int, chunk_size: int, slot: PolicySlot) -> None:
        super().__init__(batch_cap, chunk_size)
        self.slot = slot
        self._declined_epoch = -1  # the replica's queue epoch at which the policy last admitted nothing
        self._smallest = (-1, 0)  # (queue epoch, smallest waiting prefill then): queues fixed within an epoch

    def form_batch(self, replica: Replica, now: float) -> Batch:
        batch = Batch(runs_decodes=True)
        replica.reserve_decode_blocks(now)
        budget = self.chunk_size - replica.num_decoding
        for request in replica.prefilling:
            if budget <= 0:
                break
            chunk = min(request.num_prefill_tokens - request._processed, budget)
            batch.prefill_chunks.append((request, chunk))
            budget -= chunk
        if budget <= 0 or not self._worth_asking(replica):
            return batch
        admitted = 0
        for request in self.slot.select(replica, now, budget, self.batch_cap):
            if budget <= 0 or replica.num_active_requests >= self.batch_cap or not replica.can_admit(request):
                break
            replica.admit(request, now)
            chunk = min(request.num_prefill_tokens, budget)
            batch.prefill_chunks.append((request, chunk))
            budget -= chunk
            admitted += 1
        if not admitted:
            self._declined_epoch = replica.queue_epoch
        return batch

    def can_repeat_decode_batch(self, replica: Replica, batch: Batch) -> bool:
        return not batch.prefill_chunks and not replica.prefilling and not self._worth_asking(replica)

    def _worth_asking(self, replica: Replica) -> bool:
        """Some waiting request fits now, and the queues changed since the policy last declined."""
        waiting = replica.waiting
        if not waiting or replica.num_active_requests >= self.batch_cap:
            return False
        if replica.queue_epoch == self._declined_epoch:
            return False
        if replica.can_admit(waiting[0]):
            return True
        epoch, smallest = self._smallest
        if epoch != replica.queue_epoch:
            smallest = min(r.num_prefill_tokens for r in waiting)
            self._smallest = (replica.queue_epoch, smallest)
        return replica.allocator.can_admit(smallest)
