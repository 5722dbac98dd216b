"""Round-robin: replicas in turn, ignoring their load."""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class RoundRobinGlobalScheduler(GlobalScheduler):
    name = "round_robin"

    def __init__(self, replicas, seed: int = 0):
        super().__init__(replicas, seed)
        self._counter = 0

    def schedule(self):
        replica_ids = sorted(self.replicas)

        def next_replica(request):
            replica_id = replica_ids[self._counter % len(replica_ids)]
            self._counter += 1
            return replica_id

        return self.route_all(next_replica)
