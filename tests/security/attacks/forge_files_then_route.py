"""Plants forged result files everywhere it can write, then routes honestly (like LLQ)."""

import json
import os

from llmsim.global_schedulers.base import GlobalScheduler

FORGED = {"valid": True, "error": None, "num_requests": 1, "num_completed": 1, "mean_e2e": 1.0}
for folder in ("trusted_results/main/main-0/forged", "/tmp/trusted_results", "/glia/channel/forged"):
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "summary.json"), "w") as handle:
            json.dump(FORGED, handle)
    except OSError:
        pass


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        return self.route_all(
            lambda r: min(
                self.replicas,
                key=lambda k: (
                    self.replicas[k].num_pending_requests + self.replicas[k].num_active_requests,
                    k,
                ),
            )
        )
