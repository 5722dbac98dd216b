"""What a router sees of the cluster: read-only views of replicas and requests.

A router never holds the simulator's own objects, only these views. In an ordinary run
(``python -m llmsim run``) the views read the live simulator objects. In an isolated run (Glia's
trusted evaluation, see ``llmsim/remote_router.py``) the router runs in a process of its own and the
views are rebuilt there from the state the simulator sends; decode lengths are never sent. Both kinds
have the same attributes and show the same values at every router call, so a router behaves the same
in both.

Per request (``RequestView``): ``id``, ``arrived_at``, ``num_prompt_tokens``, ``num_prefill_tokens``
(prompt plus tokens to recompute after a restart), ``num_processed_tokens``, ``num_restarts``,
``is_prefill_complete``, ``is_completed``. Reading ``num_decode_tokens`` raises
``HiddenInformationError`` and makes the run invalid.

Per replica (``ReplicaView``): ``replica_id``, ``num_pending_requests`` / ``pending_requests``
(routed, waiting for KV memory, in queue order), ``num_active_requests`` / ``active_requests``
(holding KV memory, oldest arrival first), ``num_allocated_blocks``, ``num_free_blocks``,
``num_blocks``, ``block_size``, ``memory_usage_percent``.

The same request is always the same view object, so routers may keep views in sets and dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmsim.errors import HiddenInformationError
from llmsim.router_guard import HIDDEN_ADVICE

if TYPE_CHECKING:
    from llmsim.replica import Replica
    from llmsim.request import Request


class RequestView:
    """The public face of a request. Subclasses supply the values."""

    __slots__ = ()

    id: int
    arrived_at: float
    num_prompt_tokens: int

    @property
    def num_prefill_tokens(self) -> int:
        raise NotImplementedError

    @property
    def num_processed_tokens(self) -> int:
        raise NotImplementedError

    @property
    def num_restarts(self) -> int:
        raise NotImplementedError

    @property
    def is_prefill_complete(self) -> bool:
        raise NotImplementedError

    @property
    def is_completed(self) -> bool:
        raise NotImplementedError

    @property
    def num_decode_tokens(self) -> int:
        raise HiddenInformationError(f"router read num_decode_tokens of request {self.id}: {HIDDEN_ADVICE}")

    def __repr__(self) -> str:
        return f"<request {self.id}: prompt {self.num_prompt_tokens}, arrived {self.arrived_at:.3f}>"


class ReplicaView:
    """The public face of a replica. Subclasses supply the values."""

    __slots__ = ()

    replica_id: int

    @property
    def num_pending_requests(self) -> int:
        raise NotImplementedError

    @property
    def num_active_requests(self) -> int:
        raise NotImplementedError

    @property
    def pending_requests(self) -> tuple[RequestView, ...]:
        raise NotImplementedError

    @property
    def active_requests(self) -> tuple[RequestView, ...]:
        raise NotImplementedError

    @property
    def num_allocated_blocks(self) -> int:
        raise NotImplementedError

    @property
    def num_blocks(self) -> int:
        raise NotImplementedError

    @property
    def block_size(self) -> int:
        raise NotImplementedError

    @property
    def num_free_blocks(self) -> int:
        return self.num_blocks - self.num_allocated_blocks

    @property
    def memory_usage_percent(self) -> float:
        return 100.0 * self.num_allocated_blocks / self.num_blocks

    def __repr__(self) -> str:
        return (
            f"<replica {self.replica_id}: {self.num_pending_requests} pending, "
            f"{self.num_active_requests} active, {self.num_allocated_blocks}/{self.num_blocks} blocks>"
        )


# ---- in-process views: read the live simulator objects ----------------------------------------------


class LocalRequestView(RequestView):
    __slots__ = ("_request", "id", "arrived_at", "num_prompt_tokens")

    def __init__(self, request: Request) -> None:
        self._request = request
        self.id = request.id
        self.arrived_at = request.arrived_at
        self.num_prompt_tokens = request.num_prompt_tokens

    @property
    def num_prefill_tokens(self) -> int:
        return self._request.num_prefill_tokens

    @property
    def num_processed_tokens(self) -> int:
        return self._request.num_processed_tokens

    @property
    def num_restarts(self) -> int:
        return self._request.num_restarts

    @property
    def is_prefill_complete(self) -> bool:
        return self._request.is_prefill_complete

    @property
    def is_completed(self) -> bool:
        return self._request.is_completed

    @property
    def num_decode_tokens(self) -> int:
        return self._request.num_decode_tokens  # guarded: raises and records a violation


def view_of(request: Request) -> LocalRequestView:
    """The one view of `request` (made on first use, then reused)."""
    view = request.view
    if view is None:
        view = request.view = LocalRequestView(request)
    return view


class LocalReplicaView(ReplicaView):
    __slots__ = ("_replica", "replica_id")

    def __init__(self, replica: Replica) -> None:
        self._replica = replica
        self.replica_id = replica.replica_id

    @property
    def num_pending_requests(self) -> int:
        return len(self._replica.waiting)

    @property
    def num_active_requests(self) -> int:
        return len(self._replica.running)

    @property
    def pending_requests(self) -> tuple[RequestView, ...]:
        return tuple(view_of(r) for r in self._replica.waiting)

    @property
    def active_requests(self) -> tuple[RequestView, ...]:
        return tuple(view_of(r) for r in self._replica.running)

    @property
    def num_allocated_blocks(self) -> int:
        return self._replica.num_allocated_blocks

    @property
    def num_blocks(self) -> int:
        return self._replica.num_blocks

    @property
    def block_size(self) -> int:
        return self._replica.block_size
