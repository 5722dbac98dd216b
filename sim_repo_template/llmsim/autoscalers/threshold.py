"""The production-style baseline: scale on per-replica decode throughput, one replica at a time.

Modelled on the autoscalers serving stacks ship (and on the baseline of the Glia paper's autoscaling
study): it watches the output tokens per second generated per active replica, averaged over the last
minute (a Prometheus-style `rate(...[1m])`). Above ``HIGH`` it adds one replica; below ``LOW`` it drains
the least busy one (fewest requests in flight). After any action it waits a minute (``COOLDOWN``: until
the average no longer covers the time before the action), and it adds nothing while a replica it added is
still starting (its effect cannot be seen yet).

The thresholds are set the way an operator sets them, from a load test of the deployment at its starting
size (``scripts/calibrate_autoscaler.py``: 4 A10 replicas behind LLQ, steady Poisson load, 4 seeds of
30 minutes): the highest load that meets the latency target (p95 slowdown <= 5) is 1.8 requests/s per
replica, where a replica generates 658 output tokens/s. ``HIGH`` keeps the customary 20% margin below
that (526); ``LOW`` is three quarters of ``HIGH`` (395), so that removing one of four replicas at ``LOW``
leaves the other three at ``HIGH``, not above it.
"""

from __future__ import annotations

import math
from collections import deque

from llmsim.autoscalers.base import Autoscaler, ClusterState, ScalingDecision

HIGH = 0.8 * 658  # output tokens / s per active replica (526)
LOW = HIGH * 3 / 4  # 395
WINDOW = 60.0  # seconds of history in the throughput it compares (a Prometheus rate(...[1m]))
COOLDOWN = WINDOW  # after an action, wait until the signal no longer averages over the time before it


class ThroughputThresholdAutoscaler(Autoscaler):
    name = "threshold"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.last_change = -math.inf
        self.history: deque[tuple[float, float]] = deque()  # (interval, output tokens per active replica)

    def scale(self, cluster: ClusterState) -> ScalingDecision:
        active = cluster.active
        self.history.append((cluster.interval, sum(r.decode_tokens for r in active) / len(active)))
        while sum(seconds for seconds, _ in self.history) - self.history[0][0] >= WINDOW:
            self.history.popleft()
        per_replica = sum(tokens for _, tokens in self.history) / sum(seconds for seconds, _ in self.history)
        now = cluster.now
        if now - self.last_change < COOLDOWN:
            return ScalingDecision()
        if per_replica > HIGH and not cluster.starting and cluster.num_replicas < cluster.max_replicas:
            self.last_change = now
            return ScalingDecision(add=1)
        if per_replica < LOW and len(active) > 1 and cluster.num_replicas > cluster.min_replicas:
            self.last_change = now
            idlest = min(active, key=lambda r: (r.num_in_flight, -r.replica_id))
            return ScalingDecision(remove=(idlest.replica_id,))
        return ScalingDecision()
