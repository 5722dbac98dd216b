"""Where a designed replica scheduler runs: in this process, or in a sandbox of its own.

The replicas' batch mechanism (``replica_schedulers/designed.py``) asks a *scheduler slot* which waiting
requests to admit. ``LocalSchedulerSlot`` runs the policy class here, one object per replica, behind
read-only request views and the decode-length guard. When ``GLIA_DESIGN_ENDPOINT`` is set (Glia's
trusted evaluation) and the replica scheduler is the design (``ai``), the slot is a
``RemoteSchedulerSlot`` (``llmsim/remote_scheduler.py``): the policy runs in another process that only
receives each call's snapshot. Either way the answer is checked by ``replica_schedulers/contract.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmsim.design_calls import guarded
from llmsim.errors import SchedulerError
from llmsim.replica_schedulers.contract import accept_selection
from llmsim.replica_schedulers.policy import ReplicaPolicy, ReplicaState
from llmsim.views import view_of

if TYPE_CHECKING:
    from llmsim.replica import Replica
    from llmsim.request import Request

WHO = "replica scheduler"


def replica_state(replica: Replica, now: float, budget: int, batch_cap: int, waiting: tuple) -> ReplicaState:
    """The snapshot a policy is shown (the remote slot sends exactly these numbers)."""
    return ReplicaState(
        replica_id=replica.replica_id,
        now=now,
        waiting=waiting,
        num_running=len(replica.running),
        num_prefilling=len(replica.prefilling),
        num_decoding=replica.pool.size,
        num_free_blocks=replica.allocator.num_free,
        num_blocks=replica.allocator.num_blocks,
        block_size=replica.block_size,
        watermark_blocks=replica.allocator.watermark_blocks,
        token_budget=budget,
        batch_cap=batch_cap,
    )


class LocalSchedulerSlot:
    """The policy objects live in this process (one per replica, made on first use)."""

    def __init__(self, policy_cls: type[ReplicaPolicy], seed: int) -> None:
        self._cls = policy_cls
        self._seed = seed
        self._policies: dict[int, ReplicaPolicy] = {}
        self.calls = 0  # select() calls made (each is a round trip when the policy runs apart)

    def select(self, replica: Replica, now: float, budget: int, batch_cap: int) -> list[Request]:
        self.calls += 1
        rid = replica.replica_id
        policy = self._policies.get(rid)
        if policy is None:
            policy = self._policies[rid] = guarded(
                "__init__", self._cls, rid, self._seed, who=WHO, error=SchedulerError
            )
        waiting = tuple(map(view_of, replica.waiting))
        by_view = dict(zip(map(id, waiting), replica.waiting, strict=True))
        state = replica_state(replica, now, budget, batch_cap, waiting)
        chosen = guarded("select()", policy.select, state, who=WHO, error=SchedulerError)
        return [by_view[id(view)] for view in accept_selection(chosen, waiting, rid)]

    def close(self) -> None:
        pass
