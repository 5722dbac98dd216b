"""The states of a replica's life cycle (see ``llmsim/cluster.py``), as autoscalers see them."""

STARTING, ACTIVE, DRAINING, RELEASED = "starting", "active", "draining", "released"
