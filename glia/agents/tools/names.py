"""The names of the built-in Researcher tools, defined once (`finish` is also the event type of its call)."""

from glia.record.events import BASH, FINISH

__all__ = ["BASH", "FINISH"]
