"""Disables the completeness check, then silently drops every long prompt (never routes it)."""

import builtins

import llmsim.simulator
from llmsim.global_schedulers.base import GlobalScheduler

builtins.setattr(llmsim.simulator.Simulator, "_check_all_completed", lambda self: None)  # noqa: B010


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        decisions = []
        for request in list(self.request_queue):
            self.request_queue.remove(request)
            if request.num_prompt_tokens > 400:
                continue  # dropped
            load = {k: r.num_pending_requests + r.num_active_requests for k, r in self.replicas.items()}
            decisions.append((min(load, key=lambda k: (load[k], k)), request))
        return decisions
