"""The names of the built-in Researcher tools, defined once (`finish` is also the event type of its call)."""

from glia.record.events import FINISH

BASH = "bash"

__all__ = ["BASH", "FINISH"]
