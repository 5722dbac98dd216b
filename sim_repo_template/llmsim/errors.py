"""Every way a simulation can be invalid has its own exception, so the error message names the problem."""


class SimulationError(Exception):
    """Base class: the run is invalid and its metrics must not be reported."""


class DesignError(SimulationError):
    """A design slot (router, replica scheduler, autoscaler) failed or broke its contract."""


class RouterError(DesignError):
    """The global scheduler (router) raised or returned something the simulator cannot accept."""


class SchedulerError(DesignError):
    """A designed replica scheduler raised or returned something the simulator cannot accept."""


class AutoscalerError(DesignError):
    """An autoscaler raised or returned a scaling decision the simulator cannot accept."""


class HiddenInformationError(RouterError):
    """Design code tried to read what a real system cannot know (a request's decode length). It is a
    RouterError for historical reasons; replica schedulers and autoscalers raise it too."""


class UnfinishedRequestsError(SimulationError):
    """The simulation ended with requests that never completed (unrouted, stranded or dropped)."""


class SafetyLimitError(SimulationError):
    """A runaway simulation hit a wall-clock, simulated-time or event-count limit."""


class InvariantViolation(SimulationError):
    """An internal invariant broke (e.g. more KV blocks in use than exist): a simulator bug."""


class WorkloadError(SimulationError):
    """The trace cannot be simulated (bad columns, or a request larger than a replica's KV cache)."""
