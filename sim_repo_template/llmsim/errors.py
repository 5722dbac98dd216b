"""Every way a simulation can be invalid has its own exception, so the error message names the problem."""


class SimulationError(Exception):
    """Base class: the run is invalid and its metrics must not be reported."""


class RouterError(SimulationError):
    """The global scheduler (router) raised or returned something the simulator cannot accept."""


class HiddenInformationError(RouterError):
    """A router tried to read information a real router cannot know (a request's decode length)."""


class UnfinishedRequestsError(SimulationError):
    """The simulation ended with requests that never completed (unrouted, stranded or dropped)."""


class SafetyLimitError(SimulationError):
    """A runaway simulation hit a wall-clock, simulated-time or event-count limit."""


class InvariantViolation(SimulationError):
    """An internal invariant broke (e.g. more KV blocks in use than exist): a simulator bug."""


class WorkloadError(SimulationError):
    """The trace cannot be simulated (bad columns, or a request larger than a replica's KV cache)."""
