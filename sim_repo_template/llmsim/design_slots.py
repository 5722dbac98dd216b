"""Which design slot runs where: the one factory for the router, replica-scheduler and autoscaler slots.

A run may use the Researcher's design in any slot: the router ``--router ai``, the replica scheduler
``--replica-scheduler ai`` or the autoscaler ``--autoscaler ai``. In ordinary runs each runs in this
process. In Glia's trusted evaluation ``GLIA_DESIGN_ENDPOINT`` names the socket of a design process
(``python -m llmsim.design_host``) that serves exactly one design: the slot whose option is ``ai`` then
talks to it, and every other slot runs its built-in code here. Naming ``ai`` in two slots of an isolated
run is an error (the design process could not tell which one it is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmsim.cpu_limits import wall_guard_s
from llmsim.design_endpoint import DESIGN_NAME, endpoint, isolated_slot
from llmsim.router_slot import LocalRouterSlot, RouterSlot

if TYPE_CHECKING:
    from llmsim.config import SimulationConfig
    from llmsim.replica import Replica


def make_router_slot(
    config: SimulationConfig, replicas: dict[int, Replica], router_cls: type | None = None
) -> RouterSlot:
    """The slot for this run's router (remote only for the design, and only when Glia asks for it).
    `replicas` are the replicas the router may use now; the simulator reports later changes."""
    if router_cls is None and isolated_slot(config) == "router":
        from llmsim.remote_router import RemoteRouterSlot

        return RemoteRouterSlot(
            endpoint(), replicas, config.router_seed, wall_guard_s(config.design_call_timeout)
        )
    if router_cls is None:
        from llmsim.global_schedulers.registry import router_class

        router_cls = router_class(config.router)
    return LocalRouterSlot(router_cls, replicas, config.router_seed)


def make_scheduler_slot(config: SimulationConfig, policy_cls: type | None = None):
    """The slot of a designed replica scheduler, or None when the run uses a built-in one."""
    if policy_cls is None and config.replica_scheduler != DESIGN_NAME:
        return None
    if policy_cls is None and isolated_slot(config) == "replica_scheduler":
        from llmsim.remote_scheduler import RemoteSchedulerSlot

        return RemoteSchedulerSlot(endpoint(), config.router_seed, wall_guard_s(config.design_call_timeout))
    from llmsim.scheduler_slot import LocalSchedulerSlot

    if policy_cls is None:
        from llmsim.replica_schedulers.ai_replica_scheduler import AIReplicaScheduler as policy_cls
    return LocalSchedulerSlot(policy_cls, config.router_seed)


def make_autoscaler_slot(config: SimulationConfig, autoscaler_cls: type | None = None):
    """The autoscaler's slot, or None for a fixed cluster."""
    if autoscaler_cls is None and config.autoscaler is None:
        return None
    from llmsim.autoscaler_slot import LocalAutoscalerSlot, RemoteAutoscalerSlot
    from llmsim.autoscalers import autoscaler_class

    if autoscaler_cls is None and isolated_slot(config) == "autoscaler":
        return RemoteAutoscalerSlot(endpoint(), config.router_seed, wall_guard_s(config.design_call_timeout))
    return LocalAutoscalerSlot(autoscaler_cls or autoscaler_class(config.autoscaler), config.router_seed)
