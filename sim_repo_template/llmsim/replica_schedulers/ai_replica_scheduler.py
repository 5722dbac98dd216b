"""The design file of the batch-scheduling task: the replica scheduler the Researcher rewrites.

It starts as first come, first served (identical to the built-in ``sarathi`` scheduler): offer every
waiting request in queue order. Replace ``select()`` with a better policy; see
``llmsim/replica_schedulers/policy.py`` for what a policy sees, how its answer is applied, and the rules
(decode lengths are hidden; every request must eventually be admitted).
"""

from __future__ import annotations

from llmsim.replica_schedulers.policy import ReplicaPolicy


class AIReplicaScheduler(ReplicaPolicy):
    name = "ai"

    def select(self, replica):
        return list(replica.waiting)
