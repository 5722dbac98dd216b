"""Replica schedulers by name (``--replica-scheduler``).

``sarathi`` (the default) and ``vllm`` are built-in batch schedulers. ``ai`` is the designed one: the
Sarathi mechanism (``designed.py``) with admissions chosen by the policy in ``ai_replica_scheduler.py``
(interface: ``policy.py``); it is loaded only by runs that use it.
"""

from llmsim.replica_schedulers.base import Batch, ReplicaScheduler
from llmsim.replica_schedulers.sarathi import SarathiScheduler
from llmsim.replica_schedulers.vllm import VLLMScheduler

REPLICA_SCHEDULERS: dict[str, type[ReplicaScheduler]] = {
    SarathiScheduler.name: SarathiScheduler,
    VLLMScheduler.name: VLLMScheduler,
}
SCHEDULER_NAMES = ("ai", *sorted(REPLICA_SCHEDULERS))

__all__ = [
    "REPLICA_SCHEDULERS",
    "SCHEDULER_NAMES",
    "Batch",
    "ReplicaScheduler",
    "SarathiScheduler",
    "VLLMScheduler",
]
