"""The replica-scheduler contract, checked in one place: what a policy's ``select()`` may return.

Used where the policy runs in the simulator's process (``llmsim/scheduler_slot.py``) and where it runs
in a process of its own (``llmsim/design_host.py``), so a policy that breaks the contract gets the same
error either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmsim.errors import SchedulerError
from llmsim.views import RequestView


def accept_selection(selection: Any, waiting: Sequence[RequestView], replica_id: int) -> list[RequestView]:
    """The requests a ``select()`` call chose, checked: a list of distinct waiting requests of its replica."""
    if selection is None:
        raise SchedulerError(
            "replica scheduler select() returned None; return a list (empty to admit nothing)"
        )
    if isinstance(selection, RequestView | str | bytes | dict):
        raise SchedulerError(
            f"replica scheduler select() must return a list of requests, got {selection!r:.100}"
        )
    try:
        chosen = list(selection)
    except TypeError:
        raise SchedulerError(
            f"replica scheduler select() must return a list of requests, got {selection!r:.100}"
        ) from None
    waiting_ids = {id(view) for view in waiting}
    seen: set[int] = set()
    for item in chosen:
        if not isinstance(item, RequestView):
            raise SchedulerError(
                f"replica scheduler select() returned {item!r:.100} where a request was expected"
            )
        if id(item) not in waiting_ids:
            raise SchedulerError(
                f"replica scheduler select() returned request {item.id}, which is not waiting on replica {replica_id}"
            )
        if id(item) in seen:
            raise SchedulerError(f"replica scheduler select() returned request {item.id} twice")
        seen.add(id(item))
    return chosen
