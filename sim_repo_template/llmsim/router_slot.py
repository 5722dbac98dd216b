"""Where the router runs, as the simulator sees it: in this process, or in a sandbox of its own.

The simulator talks to a *router slot*: it hands it each arriving request and asks it for routing
decisions, already checked against the router contract. ``LocalRouterSlot`` runs the router class
here, behind read-only views and the decode-length guard. When the environment variable
``GLIA_DESIGN_ENDPOINT`` is set (Glia's trusted evaluation) and the router is the design (see
``llmsim/design_slots.py``), the slot is a ``RemoteRouterSlot`` (``llmsim/remote_router.py``): the
design runs in another process that holds no simulator state at all. With an autoscaler the replicas a
router may use change during the run (``add_replica`` / ``remove_replica``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from llmsim.cpu_limits import DecisionClock, wall_guard_s
from llmsim.design_slots import DESIGN_NAME, endpoint, isolated_slot
from llmsim.errors import DesignError, HiddenInformationError, RouterError, SafetyLimitError
from llmsim.global_schedulers.contract import accept_decisions
from llmsim.request import ROUTER_GUARD, Request
from llmsim.views import LocalReplicaView, view_of

if TYPE_CHECKING:
    from llmsim.config import SimulationConfig
    from llmsim.global_schedulers.base import GlobalScheduler
    from llmsim.replica import Replica

DESIGN_ROUTER = DESIGN_NAME  # the router name that selects the design file


class RouterSlot(Protocol):
    def add_request(self, request: Request) -> None: ...

    def schedule(self, now: float) -> list[tuple[int, Request]]: ...

    @property
    def num_held(self) -> int: ...

    def close(self) -> None: ...

    def add_replica(self, replica_id: int, replica: Replica) -> None: ...

    def remove_replica(self, replica_id: int) -> None: ...


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


def guarded(
    what: str,
    call,
    *args,
    _enter=ROUTER_GUARD.enter,
    _leave=ROUTER_GUARD.leave,
    who: str = "router",
    error: type[DesignError] = RouterError,
):
    """Run design code with decode lengths hidden; turn its failures into `error` (RouterError for a
    router). The guard functions are bound when this module loads, so rebinding module names cannot
    bypass them. `who` names the design slot in messages ("router", "replica scheduler", ...)."""
    token = _enter()
    try:
        result = call(*args)
    except HiddenInformationError as exc:
        _leave(token)
        if who == "router":
            raise
        raise HiddenInformationError(hidden_message(str(exc), who)) from None
    except SafetyLimitError:
        _leave(token)
        raise
    except Exception as exc:  # the design's own bug: report it, do not hide it
        violations = _leave(token)
        if violations:
            raise HiddenInformationError(hidden_message(violations[0], who)) from exc
        raise error(f"{who} {what} raised {type(exc).__name__}: {exc}") from exc
    except BaseException:
        _leave(token)
        raise
    violations = _leave(token)
    if violations:
        raise HiddenInformationError(hidden_message(violations[0], who))
    return result


def hidden_message(message: str, who: str) -> str:
    """The guard words its messages for routers; name the slot that really read the hidden field."""
    if who != "router" and message.startswith("router read"):
        return who + message[len("router") :]
    return message


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
