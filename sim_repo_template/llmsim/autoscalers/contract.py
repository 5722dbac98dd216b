"""The autoscaler contract, checked in one place: what ``scale()`` may return and what it then means.

``normalize`` turns what the design returned into plain data (it runs where the design runs: in the
simulator's process, or in the design's own process before the answer is sent); ``resolve`` checks that
data against the cluster and turns it into the exact replicas to add, cancel and drain (it always runs in
the simulator, on data it treats as hostile). So an autoscaler breaking the contract gets the same error
either way, and a target count means the same replicas either way.
"""

from __future__ import annotations

import operator
from typing import Any

from llmsim.autoscalers.base import ClusterState, ScalingDecision
from llmsim.autoscalers.states import ACTIVE, STARTING
from llmsim.errors import AutoscalerError

MAX_ADD = 10_000


def normalize(result: Any) -> list[Any]:
    """`["target", n]` for an int, `["decision", add, [ids]]` for a ScalingDecision."""
    if isinstance(result, ScalingDecision):
        add = _integer(result.add, "ScalingDecision.add")
        try:
            remove = [_integer(r, "a replica id in ScalingDecision.remove") for r in result.remove]
        except TypeError:
            raise AutoscalerError(
                f"ScalingDecision.remove must be a sequence of replica ids, got {result.remove!r:.100}"
            ) from None
        return ["decision", add, remove]
    if isinstance(result, bool) or result is None:
        raise AutoscalerError(f"autoscaler scale() must return an int or a ScalingDecision, got {result!r}")
    try:
        return ["target", operator.index(result)]
    except TypeError:
        raise AutoscalerError(
            f"autoscaler scale() must return an int or a ScalingDecision, got {result!r:.100}"
        ) from None


def resolve(wire: Any, cluster: ClusterState) -> ScalingDecision:
    """The checked decision: replicas to add, and ids to remove (each starting or active)."""
    if not isinstance(wire, list) or not wire or wire[0] not in ("target", "decision"):
        raise AutoscalerError("the autoscaler sent a malformed decision")
    if wire[0] == "target":
        if len(wire) != 2 or isinstance(wire[1], bool) or not isinstance(wire[1], int):
            raise AutoscalerError("the autoscaler sent a malformed target")
        return plan_for_target(cluster, wire[1])
    if (
        len(wire) != 3
        or isinstance(wire[1], bool)
        or not isinstance(wire[1], int)
        or not isinstance(wire[2], list)
    ):
        raise AutoscalerError("the autoscaler sent a malformed decision")
    add, remove = wire[1], wire[2]
    states = {r.replica_id: r.state for r in cluster.replicas}
    if not 0 <= add <= MAX_ADD:
        raise AutoscalerError(f"autoscaler asked to add {add} replicas")
    seen: set[int] = set()
    for rid in remove:
        if isinstance(rid, bool) or not isinstance(rid, int) or states.get(rid) not in (STARTING, ACTIVE):
            raise AutoscalerError(
                f"autoscaler asked to remove replica {rid!r:.50}, which is not starting or active"
            )
        if rid in seen:
            raise AutoscalerError(f"autoscaler asked to remove replica {rid} twice")
        seen.add(rid)
    active_left = sum(1 for rid, state in states.items() if state == ACTIVE and rid not in seen)
    if active_left < 1:
        raise AutoscalerError("autoscaler would remove every active replica (at least one must stay active)")
    total = cluster.num_replicas - len(seen) + add
    if not cluster.min_replicas <= total <= cluster.max_replicas:
        raise AutoscalerError(
            f"autoscaler decision leaves {total} replicas; allowed {cluster.min_replicas}..{cluster.max_replicas}"
        )
    return ScalingDecision(add=add, remove=tuple(remove))


def plan_for_target(cluster: ClusterState, target: int) -> ScalingDecision:
    """Reach `target` (clamped to the limits): add, or cancel the newest starting replicas first and then
    drain the active ones with the fewest requests in flight (highest id on a tie), keeping one active."""
    target = max(cluster.min_replicas, min(cluster.max_replicas, target))
    current = cluster.num_replicas
    if target >= current:
        return ScalingDecision(add=target - current)
    surplus = current - target
    starting = sorted(cluster.starting, key=lambda r: (r.provisioned_at, r.replica_id), reverse=True)
    remove = [r.replica_id for r in starting[:surplus]]
    active = sorted(cluster.active, key=lambda r: (r.num_in_flight, -r.replica_id))
    for replica in active[: max(0, min(surplus - len(remove), len(active) - 1))]:
        remove.append(replica.replica_id)
    return ScalingDecision(add=0, remove=tuple(remove))


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise AutoscalerError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise AutoscalerError(f"{what} must be an integer, got {value!r:.100}") from None
