"""Least-loaded queue (LLQ), Glia's baseline: the replica with the fewest pending + active requests
(ties to the lowest replica id)."""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class LLQGlobalScheduler(GlobalScheduler):
    name = "llq"

    def schedule(self):
        def least_loaded(request):
            return min(
                self.replicas,
                key=lambda rid: (
                    self.replicas[rid].num_pending_requests + self.replicas[rid].num_active_requests,
                    rid,
                ),
            )

        return self.route_all(least_loaded)
