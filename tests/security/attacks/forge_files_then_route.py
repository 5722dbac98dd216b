"""Plants forged result files everywhere it can write, then routes honestly (like LLQ)."""

import io
import json
import os
import tarfile

from llmsim.global_schedulers.base import GlobalScheduler

FORGED = {"valid": True, "error": None, "num_requests": 1, "num_completed": 1, "mean_e2e": 1.0}
for folder in ("trusted_results/main/main-0/forged", "/tmp/trusted_results", "/glia/channel/forged"):
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "summary.json"), "w") as handle:
            json.dump(FORGED, handle)
    except OSError:
        pass

# The evaluator's collection archives (glia/evaluation/collect.py), forged where the design can write.
archive = io.BytesIO()
with tarfile.open(fileobj=archive, mode="w") as forged_tar:
    data = json.dumps(FORGED).encode()
    member = tarfile.TarInfo("summary.json")
    member.size = len(data)
    forged_tar.addfile(member, io.BytesIO(data))
for root in ("trusted_collected", "/tmp/trusted_collected", "/glia/channel/trusted_collected"):
    for slot in ("glia-eval_0", "glia-eval_1", "MainThread"):
        try:
            os.makedirs(os.path.join(root, slot), exist_ok=True)
            with open(os.path.join(root, slot, "results.tar"), "wb") as handle:
                handle.write(archive.getvalue())
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
