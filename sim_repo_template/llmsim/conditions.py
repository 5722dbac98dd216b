"""What Glia's ledger records about a run, beyond what ``llmsim/glia_ledger.py`` reports itself.

The ledger's own conditions cover the router, a trace or a bursty generated workload, the cluster and
its memory. This simulator's newer settings change what a run means too, so they are added: the kind of a
generated workload (sinusoid, closed loop, prefill-heavy lengths, with their parameters), the replica
scheduler and autoscaler actually used (``custom:<module>.<class>`` for a class passed in), and the
autoscaling limits. A task's ``benchmark.conditions`` may name any of them.
"""

from __future__ import annotations

from typing import Any

from llmsim.config import SimulationConfig


def extra_conditions(config: SimulationConfig, classes: tuple[type | None, type | None, type | None]) -> dict:
    """Conditions beyond the ledger's own: a generated workload's kind, the replica scheduler and
    autoscaler actually used (`custom:<module>.<class>` for classes passed in), autoscaling limits."""
    from llmsim.sources import workload_label

    _, policy_cls, autoscaler_cls = classes
    extra: dict[str, Any] = {
        "autoscaler": _name(config.autoscaler or "none", autoscaler_cls),
        "min_replicas": int(config.min_replicas),
        "max_replicas": int(config.max_replicas),
        "cold_start": float(config.cold_start),
        "autoscale_interval": float(config.autoscale_interval),
    }
    if policy_cls is not None:
        extra["replica_scheduler"] = _name(config.replica_scheduler, policy_cls)
    if not config.trace and (config.arrivals != "bursty" or config.lengths != "sharegpt"):
        extra["workload"] = workload_label(config)
    return extra


def _name(name: str, cls: type | None) -> str:
    return str(name) if cls is None else f"custom:{cls.__module__}.{cls.__qualname__}"
