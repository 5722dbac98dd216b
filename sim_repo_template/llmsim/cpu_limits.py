"""A run's time limit in CPU seconds, so that a verdict does not depend on how busy the machine is.

``--time-limit`` counts the CPU time of the processes that do the work: this simulator process, plus,
in an isolated run, the design's process (``llmsim/design_host.py`` reports its own CPU time over the
channel when asked). A slow design on a busy machine uses the same CPU seconds as on an idle one, so
it passes or fails the limit the same way. The wall clock is only a guard against hangs (a design that
sleeps or waits forever uses no CPU): it is ``WALL_FACTOR`` times the limit.

A design process reports its own CPU time; a design that under-reports only lets itself run longer,
up to the wall-clock guard. It cannot change a result: the simulation is deterministic.
"""

from __future__ import annotations

import math
import time
from typing import Any

from llmsim.cpu_share import CpuShare

WALL_FACTOR = 10.0  # the hang guard: wall-clock seconds per CPU second of the limit
CPU_LIMIT_ENV = "GLIA_DESIGN_CPU_LIMIT"  # the design process's CPU seconds, set by Glia's evaluator
CPU_TIME_CALL = "cpu_time"  # the design host's handler: its CPU seconds since the run's init


def wall_guard_s(time_limit_s: float) -> float:
    """Wall-clock seconds after which a run is a hang, whatever the load."""
    return WALL_FACTOR * time_limit_s


def cpu_seconds(value: Any) -> float | None:
    """A CPU time the design process reported, if it is a plausible one (a finite, non-negative number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


class DecisionClock:
    """CPU time spent in design code running in this process (a local slot's decision cost)."""

    __slots__ = ("seconds", "calls")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def start(self) -> float:
        return time.process_time()

    def stop(self, started: float) -> None:
        self.seconds += time.process_time() - started
        self.calls += 1


class RemoteCpu:
    """The CPU time a design process reports over its channel (the last plausible answer is kept).

    Made right after connecting, before the design loads: it also puts both processes on one CPU
    (`llmsim/cpu_share.py`), which it checks at each poll and gives back at `close`."""

    def __init__(self, channel: Any, errors: tuple[type[BaseException], ...], timeout_s: float) -> None:
        self._channel = channel
        self._errors = errors  # the channel's own failures (a limit's SafetyLimitError passes through)
        self._timeout = timeout_s
        self.seconds = 0.0
        self.share = CpuShare(lambda *args: channel.call(*args, timeout_s=timeout_s), errors)

    def poll(self) -> float:
        try:
            value = cpu_seconds(self._channel.call(CPU_TIME_CALL, timeout_s=self._timeout))
        except self._errors:  # a design that will not say keeps its last figure
            return self.seconds
        if value is not None and value >= self.seconds:
            self.seconds = value
        self.share.check(self.seconds)
        return self.seconds

    def close(self) -> None:
        """The run is over: this process may use every CPU again."""
        self.share.release(tell_peer=False)
