"""Sarathi-style chunked prefill (the default, as in the Glia benchmark).

Each iteration has a token budget (``chunk_size``, 8192). It is filled, in order, with:
1. one token for every running decode (blocks reserved first; youngest-first preemption if the
   KV cache is full),
2. chunks of prefills already admitted but not finished (oldest first),
3. new requests from the waiting queue, first come first served, while each one's whole prefill fits
   in free KV blocks above the watermark, the running count is below ``batch_cap`` and budget is left.
Decodes and prefill chunks share the batch, so decodes never stall behind a long prompt.
"""

from __future__ import annotations

from llmsim.replica_schedulers.base import Batch, Replica, ReplicaScheduler


class SarathiScheduler(ReplicaScheduler):
    name = "sarathi"

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

        while budget > 0 and replica.waiting and replica.num_active_requests < self.batch_cap:
            request = replica.waiting[0]
            if not replica.can_admit(request):
                break
            replica.admit(request, now)
            chunk = min(request.num_prefill_tokens, budget)
            batch.prefill_chunks.append((request, chunk))
            budget -= chunk
        return batch

    def can_repeat_decode_batch(self, replica: Replica, batch: Batch) -> bool:
        return not batch.prefill_chunks and not replica.prefilling and self._admission_blocked(replica)
