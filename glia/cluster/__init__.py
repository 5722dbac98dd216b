"""Glia on a Ray cluster: the run stays here, its sandboxes go to the nodes.

The driver (the machine that started the run) keeps everything that needs trust or keys: the context
loops, every model call, the budget and its ledger, the run folder, trusted evaluation. Nodes run only
sandboxes, each a `SandboxHost` actor (`host`) driving the node's own Docker engine with Glia's Docker
backend. `RayWorkspace` (`workspace`) is the Workspace interface over that actor; `placement` picks the
node (never more sandboxes than a node declares as the `glia_sandbox` resource); `relay` carries the
simulation ledger's socket between the sandbox and the driver. Needs the optional extra `glia[cluster]`.
"""

from __future__ import annotations

from glia.cluster.connect import ClusterError, check_address, connect, connected, disconnect
from glia.cluster.evaluation import LanePool, SpreadSandboxes, cluster_lanes
from glia.cluster.host import RESOURCE, NodeRefused
from glia.cluster.placement import PLACEMENT, Placement
from glia.cluster.workspace import RayWorkspace
from glia.evaluation.spread import SpreadBackend, register_spread_backend
from glia.workspace import register_remote_backend

BACKEND = "ray"  # the workspace and evaluation backend this package provides
register_remote_backend(BACKEND, RayWorkspace)
register_spread_backend(BACKEND, SpreadBackend(sandboxes=SpreadSandboxes, kept=LanePool, width=cluster_lanes))

__all__ = [
    "BACKEND",
    "PLACEMENT",
    "RESOURCE",
    "ClusterError",
    "NodeRefused",
    "Placement",
    "check_address",
    "connect",
    "connected",
    "disconnect",
]
