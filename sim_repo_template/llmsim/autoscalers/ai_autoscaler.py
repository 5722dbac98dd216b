"""The design file of the autoscaling task: the autoscaler the Researcher rewrites.

It starts by never scaling: it asks for the replicas the cluster already has. Replace ``scale()`` with a
better policy; see ``llmsim/autoscalers/base.py`` for what an autoscaler sees, what it may return and the
rules (limits, at least one active replica; no request contents are visible).
"""

from __future__ import annotations

from llmsim.autoscalers.base import Autoscaler


class AIAutoscaler(Autoscaler):
    name = "ai"

    def scale(self, cluster):
        return cluster.num_replicas
