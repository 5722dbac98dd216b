"""The simulator's side of autoscaling: ask the autoscaler, check its answer, keep the record.

``Scaler.decide`` describes the cluster (``autoscaler_slot.ClusterObserver``), asks the autoscaler slot
and resolves its answer against the cluster (``autoscalers/contract.resolve``); the simulator applies the
decision (``Simulator._autoscale``) and ``record`` keeps one row per call for scaling_log.csv.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmsim.autoscaler_slot import ClusterObserver, state_from_rows
from llmsim.autoscalers.base import ScalingDecision
from llmsim.autoscalers.contract import resolve
from llmsim.autoscalers.states import ACTIVE, DRAINING, STARTING

if TYPE_CHECKING:
    from llmsim.cluster import Cluster
    from llmsim.config import SimulationConfig
    from llmsim.sim_output import SimulationLogs


class Scaler:
    def __init__(self, cluster: Cluster, slot: Any, config: SimulationConfig) -> None:
        self.cluster = cluster
        self.slot = slot
        self.observer = ClusterObserver(cluster, config.min_replicas, config.max_replicas)
        self.num_added = 0
        self.num_removed = 0
        self.peak = config.num_replicas  # most replicas starting or active at once

    def decide(self, now: float, num_held: int, arrived: int, completed: int) -> ScalingDecision:
        scalars, rows = self.observer.describe(now, num_held, arrived, completed)
        return resolve(self.slot.scale(scalars, rows), state_from_rows(scalars, rows))

    def record(self, now: float, decision: ScalingDecision, num_held: int, logs: SimulationLogs) -> None:
        cluster = self.cluster
        self.num_added += decision.add
        self.num_removed += len(decision.remove)
        counts = {state: cluster.count(state) for state in (STARTING, ACTIVE, DRAINING)}
        self.peak = max(self.peak, counts[STARTING] + counts[ACTIVE])
        in_flight = num_held + sum(
            len(cluster.replicas[rid].waiting) + len(cluster.replicas[rid].running) for rid in cluster.live()
        )
        logs.scaling.append(
            (
                now,
                counts[STARTING],
                counts[ACTIVE],
                counts[DRAINING],
                in_flight,
                decision.add,
                " ".join(map(str, decision.remove)),
            )
        )
