"""Least outstanding requests (LOR) as vidur defines it: the replica with the fewest *waiting*
requests, i.e. routed but not yet holding KV memory (ties to the lowest replica id)."""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class LORGlobalScheduler(GlobalScheduler):
    name = "lor"

    def schedule(self):
        def fewest_waiting(request):
            return min(self.replicas, key=lambda rid: (self.replicas[rid].num_pending_requests, rid))

        return self.route_all(fewest_waiting)
