"""OpenEvolve's initial program: the task's reference baseline as a design file (the Glia paper, Table 1).

In order: a file the user names; the reference baseline's own file when the task gives it as one; a
design-file rendering of a reference that is built into a bundled simulator (the routing task's LLQ and
the autoscaling task's throughput-threshold autoscaler, each checked equal to the built-in by a test);
the template's design file when it already behaves as the reference (the batch task's FCFS, `sarathi`);
else the template's design file, with a note saying the reference could not be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from glia.task import Task

LLQ_ROUTER = '''"""Least-loaded queue (LLQ) written as the design file: OpenEvolve's starting point.

The same policy as the simulator's built-in `llq` router: every request goes to the replica with the
fewest pending plus active requests, ties to the lowest replica id.
"""

from __future__ import annotations

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    name = "ai"

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
'''

THRESHOLD_AUTOSCALER = '''"""The throughput-threshold autoscaler written as the design file: OpenEvolve's starting point.

The same policy as the simulator's built-in `threshold` autoscaler: it averages the output tokens per
second generated per active replica over the last minute; above HIGH it adds one replica (never while one
is still starting), below LOW it drains the least busy one; after any action it waits a minute.
"""

from __future__ import annotations

import math
from collections import deque

from llmsim.autoscalers.base import Autoscaler, ScalingDecision

HIGH = 0.8 * 658  # output tokens / s per active replica, from the deployment's load test
LOW = HIGH * 3 / 4
WINDOW = 60.0  # seconds averaged
COOLDOWN = WINDOW


class AIAutoscaler(Autoscaler):
    name = "ai"

    def __init__(self, seed=0):
        super().__init__(seed)
        self.last_change = -math.inf
        self.history = deque()  # (interval length, output tokens per active replica)

    def scale(self, cluster):
        active = cluster.active
        self.history.append((cluster.interval, sum(r.decode_tokens for r in active) / len(active)))
        while sum(seconds for seconds, _ in self.history) - self.history[0][0] >= WINDOW:
            self.history.popleft()
        per_replica = sum(tokens for _, tokens in self.history) / sum(seconds for seconds, _ in self.history)
        if cluster.now - self.last_change < COOLDOWN:
            return ScalingDecision()
        if per_replica > HIGH and not cluster.starting and cluster.num_replicas < cluster.max_replicas:
            self.last_change = cluster.now
            return ScalingDecision(add=1)
        if per_replica < LOW and len(active) > 1 and cluster.num_replicas > cluster.min_replicas:
            self.last_change = cluster.now
            idlest = min(active, key=lambda r: (r.num_in_flight, -r.replica_id))
            return ScalingDecision(remove=(idlest.replica_id,))
        return ScalingDecision()
'''

# (design file, built-in reference name, file that must exist in the template) -> design text; None:
# the template's own design file already behaves as the reference (its docstring says so; a test checks).
BUILTIN_REFERENCES: dict[tuple[str, str, str], str | None] = {
    ("llmsim/global_schedulers/ai_global_scheduler.py", "llq", "llmsim/global_schedulers/llq.py"): LLQ_ROUTER,
    (
        "llmsim/autoscalers/ai_autoscaler.py",
        "threshold",
        "llmsim/autoscalers/threshold.py",
    ): THRESHOLD_AUTOSCALER,
    (
        "llmsim/replica_schedulers/ai_replica_scheduler.py",
        "sarathi",
        "llmsim/replica_schedulers/sarathi.py",
    ): None,
}


@dataclass(frozen=True)
class InitialProgram:
    text: str
    source: str  # where it came from, for run.json and the report
    note: str | None = None  # set when the reference could not be used


def initial_program(task: Task, chosen: str | None = None) -> InitialProgram:
    """The design file OpenEvolve starts from (the task must have exactly one design file)."""
    design_file = task.design_files[0]
    if chosen:
        path = Path(chosen).expanduser()
        return InitialProgram(path.read_text(encoding="utf-8"), f"file {path}")
    reference = task.evaluation.reference_baseline
    baseline = task.evaluation.baseline(reference)
    if baseline.file is not None:
        return InitialProgram(
            baseline.file.read_text(encoding="utf-8"), f"reference baseline {reference} ({baseline.file})"
        )
    template = (Path(task.simulator) / design_file).read_text(encoding="utf-8")
    for (path, name, marker), text in BUILTIN_REFERENCES.items():
        if path == design_file and name == reference and (Path(task.simulator) / marker).is_file():
            if text is None:
                return InitialProgram(
                    template, f"reference baseline {reference} (the template's design file)"
                )
            return InitialProgram(text, f"reference baseline {reference} (built in; Glia's design-file copy)")
    note = (
        f"the reference baseline {reference} is built into the simulator and Glia has no design-file copy "
        "of it, so OpenEvolve starts from the template's design file (name another with --initial-program)"
    )
    return InitialProgram(template, "the template's design file", note)
