"""Backstops for code that never returns to the event loop: signals that raise SafetyLimitError.

One mechanism (``repeating_alarm``) serves the simulator's CPU-time alarm and wall-clock hang guard and
the design process's CPU-time alarm; ``llmsim/cpu_limits.py`` says why limits count CPU seconds. Imports
nothing but the errors and the limits, so the design host and the simulator both use it.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from llmsim.cpu_limits import wall_guard_s
from llmsim.errors import SafetyLimitError


@contextmanager
def cpu_and_wall_alarms(cpu_seconds: float):
    """Backstops for code that never returns to the event loop (e.g. a router stuck in a loop): a
    SIGPROF a little after `cpu_seconds` of this process's CPU time, and a SIGALRM at the wall-clock
    hang guard, raise SafetyLimitError wherever Python is, and again every 0.2 s (so code that swallows
    exceptions cannot keep it). Only possible in the main thread on POSIX; elsewhere the event loop's
    own checks remain."""
    usable = hasattr(signal, "SIGPROF") and threading.current_thread() is threading.main_thread()
    if not usable or cpu_seconds <= 0:
        yield
        return

    message = f"CPU-time limit of {cpu_seconds:g} s reached (stuck in a single call)"
    with (
        repeating_alarm(signal.SIGPROF, signal.ITIMER_PROF, cpu_seconds, message),
        wall_clock_alarm(wall_guard_s(cpu_seconds), "wall-clock hang guard"),
    ):
        yield


@contextmanager
def wall_clock_alarm(seconds: float, what: str = "wall-clock safety limit"):
    """A SIGALRM a little after `seconds` of wall-clock time raises SafetyLimitError, and again every
    0.2 s. Main thread on POSIX only (elsewhere: a no-op)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    message = f"{what} of {seconds:g} s reached (stuck in a single call)"
    with repeating_alarm(signal.SIGALRM, signal.ITIMER_REAL, seconds, message):
        yield


@contextmanager
def repeating_alarm(signum: int, timer: int, seconds: float, message: str):
    """The mechanism of every alarm: `signum` a little after `seconds` on `timer` raises
    SafetyLimitError(message) wherever Python is, and again every 0.2 s until the block ends (so code
    that swallows the exception cannot keep running). The caller checks the signal exists here."""

    def on_signal(signum, frame):
        raise SafetyLimitError(message)

    previous = signal.signal(signum, on_signal)
    signal.setitimer(timer, seconds + 1.0, 0.2)
    try:
        yield
    finally:
        signal.setitimer(timer, 0)
        signal.signal(signum, previous)


@contextmanager
def design_cpu_alarm(seconds: float):
    """The design process's backstop (``llmsim/design_host.py``): a design stuck in one call is stopped
    after `seconds` of that process's CPU time, wherever it is. No-op without SIGPROF or a limit."""
    if seconds <= 0 or not hasattr(signal, "SIGPROF"):
        yield
        return
    message = f"CPU-time limit of {seconds:g} s reached in the design's process"
    with repeating_alarm(signal.SIGPROF, signal.ITIMER_PROF, seconds, message):
        yield
