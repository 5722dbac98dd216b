"""Random: each request to a uniformly random replica (seeded, so reproducible)."""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class RandomGlobalScheduler(GlobalScheduler):
    name = "random"

    def schedule(self):
        replica_ids = sorted(self.replicas)
        return self.route_all(lambda request: self.rng.choice(replica_ids))
