"""The router contract, checked in one place: what ``schedule()`` may return and do to its queue.

Used both where the router runs in the simulator's process (``llmsim/router_slot.py``) and where it
runs in a process of its own (``llmsim/design_host.py``), so a router breaking the contract gets the
same error either way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from llmsim.errors import RouterError
from llmsim.views import RequestView


def accept_decisions(
    decisions: Any,
    before: dict[int, RequestView],
    queue_after: Sequence[Any],
    replica_ids: Collection[int],
) -> list[tuple[int, RequestView]]:
    """Check one ``schedule()`` call and return its (replica_id, request) decisions.

    `before` maps id(view) -> view for the queue as it was before the call; `queue_after` is the
    router's ``request_queue`` after it. Raises RouterError naming the first breach.
    """
    if not decisions:
        _check_queue(before, {}, queue_after)
        return []
    try:
        pairs = list(decisions)
    except TypeError:
        raise RouterError(
            f"schedule() must return a list of (replica_id, request) pairs, got {decisions!r}"
        ) from None
    routed: dict[int, tuple[int, RequestView]] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise RouterError(f"schedule() returned {pair!r}; expected (replica_id, request) pairs")
        replica_id, request = pair
        if not isinstance(request, RequestView):
            raise RouterError(f"schedule() returned {request!r} where a request was expected")
        if isinstance(replica_id, bool) or replica_id not in replica_ids:
            raise RouterError(
                f"schedule() sent request {request.id} to unknown replica {replica_id!r} "
                f"(replicas are {sorted(replica_ids)})"
            )
        if id(request) in routed:
            raise RouterError(f"schedule() returned request {request.id} twice")
        if id(request) not in before:
            raise RouterError(
                f"schedule() returned request {request.id}, which is not in its request_queue "
                "(already routed, or never queued)"
            )
        routed[id(request)] = (replica_id, request)
    _check_queue(before, routed, queue_after)
    return list(routed.values())


def _check_queue(before: dict[int, RequestView], routed: dict, queue_after: Sequence[Any]) -> None:
    after_ids = {id(r) for r in queue_after}
    kept = before.keys() - routed.keys()
    if len(queue_after) != len(after_ids):
        raise RouterError("schedule() left the same request in request_queue twice")
    left_in = routed.keys() & after_ids
    if left_in:
        rid = routed[next(iter(left_in))][1].id
        raise RouterError(f"schedule() routed request {rid} but left it in request_queue (pop it)")
    dropped = kept - after_ids
    if dropped:
        rid = before[next(iter(dropped))].id
        raise RouterError(f"schedule() removed request {rid} from request_queue without routing it")
    if after_ids - kept:
        raise RouterError("schedule() added requests to request_queue that did not arrive")
