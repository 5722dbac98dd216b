"""Where the router runs, as the simulator sees it: in this process, or in a sandbox of its own.

The simulator talks to a *router slot*: it hands it each arriving request and asks it for routing
decisions, already checked against the router contract. ``LocalRouterSlot`` runs the router class
here, behind read-only views and the decode-length guard. When the environment variable
``GLIA_DESIGN_ENDPOINT`` is set (Glia's trusted evaluation) and the router is the design (see
``llmsim/design_slots.py``, which makes every slot), the slot is a ``RemoteRouterSlot`` (``llmsim/remote_router.py``): the
design runs in another process that holds no simulator state at all. With an autoscaler the replicas a
router may use change during the run (``add_replica`` / ``remove_replica``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from llmsim.cpu_limits import DecisionClock
from llmsim.design_calls import guarded
from llmsim.errors import RouterError
from llmsim.global_schedulers.contract import accept_decisions
from llmsim.request import Request
from llmsim.views import LocalReplicaView, view_of

if TYPE_CHECKING:
    from llmsim.global_schedulers.base import GlobalScheduler
    from llmsim.replica import Replica


class RouterSlot(Protocol):
    def add_request(self, request: Request) -> None: ...

    def schedule(self, now: float) -> list[tuple[int, Request]]: ...

    @property
    def num_held(self) -> int: ...

    def close(self) -> None: ...

    def add_replica(self, replica_id: int, replica: Replica) -> None: ...

    def remove_replica(self, replica_id: int) -> None: ...


class LocalRouterSlot:
    """The router object lives in this process and sees views of the live simulator objects.

    `clock` measures the CPU time of the router's calls (its decision cost, reported with the run)."""

    cpu = None  # no design process: the router's CPU time is this process's

    def __init__(self, router_cls: type, replicas: dict[int, Replica], seed: int) -> None:
        self._views = {rid: LocalReplicaView(replica) for rid, replica in replicas.items()}
        self._queued: dict[int, Request] = {}  # id(view) -> request: what the router was handed
        self.clock = DecisionClock()
        self.router: GlobalScheduler = guarded("__init__", router_cls, self._views, seed)

    @property
    def num_held(self) -> int:
        return len(self._queued)

    def add_request(self, request: Request) -> None:
        view = view_of(request)
        self._queued[id(view)] = request
        self.router.now = request.arrived_at
        guarded("add_request()", self.router.add_request, view)

    def schedule(self, now: float) -> list[tuple[int, Request]]:
        router = self.router
        router.now = now
        before = {id(view): view for view in router.request_queue}
        clock = self.clock
        started = clock.start()
        decisions = guarded("schedule()", router.schedule)
        clock.stop(started)
        accepted = accept_decisions(decisions, before, router.request_queue, self._views)
        routed = []
        for replica_id, view in accepted:
            request = self._queued.pop(id(view), None)
            if request is None:
                raise RouterError(f"schedule() returned request {view.id}, which was never queued")
            routed.append((replica_id, request))
        return routed

    def close(self) -> None:
        pass

    def add_replica(self, replica_id: int, replica: Replica) -> None:
        """An autoscaled replica became active: the router's `self.replicas` gains it."""
        self._views[replica_id] = LocalReplicaView(replica)

    def remove_replica(self, replica_id: int) -> None:
        """A replica is draining: it disappears from the router's `self.replicas`."""
        del self._views[replica_id]
