"""Autoscalers by name (``--autoscaler``); without one the cluster keeps ``--num-replicas`` replicas.

``threshold`` is the production-style baseline (``threshold.py``); ``ai`` is the design
(``ai_autoscaler.py``). Classes are imported on first use, so runs without autoscaling do not load them.
"""

from __future__ import annotations

from importlib import import_module

_CLASSES = {
    "ai": ("llmsim.autoscalers.ai_autoscaler", "AIAutoscaler"),  # the design, whatever its name attribute
    "threshold": ("llmsim.autoscalers.threshold", "ThroughputThresholdAutoscaler"),
}
AUTOSCALER_NAMES = tuple(_CLASSES)


def autoscaler_class(name: str) -> type:
    try:
        module, cls = _CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown autoscaler {name!r}; choose from {', '.join(AUTOSCALER_NAMES)}") from None
    return getattr(import_module(module), cls)
