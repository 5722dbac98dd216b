"""The design file: the router the Researcher rewrites.

It starts as a random router. Replace ``schedule()`` with a better policy; see
``llmsim/global_schedulers/base.py`` for what a router may read and the rules it must follow
(decode lengths are hidden; every request must eventually be routed).
"""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

    def schedule(self):
        replica_ids = sorted(self.replicas)
        decisions = []
        while self.request_queue:
            request = self.request_queue.pop(0)
            decisions.append((self.rng.choice(replica_ids), request))
        return decisions
