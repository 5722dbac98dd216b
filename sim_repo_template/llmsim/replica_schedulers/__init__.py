"""Replica schedulers by name (``--replica-scheduler``)."""

from llmsim.replica_schedulers.base import Batch, ReplicaScheduler
from llmsim.replica_schedulers.sarathi import SarathiScheduler
from llmsim.replica_schedulers.vllm import VLLMScheduler

REPLICA_SCHEDULERS: dict[str, type[ReplicaScheduler]] = {
    SarathiScheduler.name: SarathiScheduler,
    VLLMScheduler.name: VLLMScheduler,
}

__all__ = ["REPLICA_SCHEDULERS", "Batch", "ReplicaScheduler", "SarathiScheduler", "VLLMScheduler"]
