"""vLLM-style scheduling (as vidur models it): a batch is either all prefills or all decodes.

Prefills have priority: if the first waiting request can be admitted, the iteration admits waiting
requests first come first served (whole prompts, up to the ``chunk_size`` token budget; a single
prompt longer than the budget runs alone) and runs no decodes. Otherwise every running request
decodes one token, with the same block reservation and youngest-first preemption as Sarathi.
"""

from __future__ import annotations

from llmsim.replica_schedulers.base import Batch, Replica, ReplicaScheduler


class VLLMScheduler(ReplicaScheduler):
    name = "vllm"

    def form_batch(self, replica: Replica, now: float) -> Batch:
        batch = Batch(runs_decodes=False)
        budget = self.chunk_size
        while replica.waiting and replica.num_active_requests < self.batch_cap:
            request = replica.waiting[0]
            if batch.prefill_chunks and request.num_prefill_tokens > budget:
                break
            if not replica.can_admit(request):
                break
            replica.admit(request, now)
            batch.prefill_chunks.append((request, request.num_prefill_tokens))
            budget -= request.num_prefill_tokens
        if batch.prefill_chunks:
            return batch
        replica.reserve_decode_blocks(now)
        batch.runs_decodes = True
        return batch

    def can_repeat_decode_batch(self, replica: Replica, batch: Batch) -> bool:
        return not batch.prefill_chunks and self._admission_blocked(replica)
