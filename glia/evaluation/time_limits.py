"""When a trusted simulation is stopped from outside, and when a stop may be the machine's doing.

Validity is decided by CPU time, inside the sandboxes; the wall clock only guards against hangs. A limit
reached while the machine was oversubscribed is run again before it condemns the design (issue 22).
"""

from __future__ import annotations

WALL_GUARD_FACTOR = 10.0  # the simulator's hang guard (llmsim/cpu_limits.py): wall seconds per CPU second
LOAD_RETRIES = 2  # how often a limit reached on an oversubscribed machine is run again before it condemns


def kill_after_s(time_limit_s: float) -> float:
    """When a simulation is killed from outside: after the simulator's own wall-clock hang guard.

    The time limit that decides validity is in CPU seconds and enforced inside the sandboxes (the core's
    and the design's processes); this wall-clock kill only stops what hangs, so it is generous."""
    guard = WALL_GUARD_FACTOR * time_limit_s
    return guard + max(5.0, 0.25 * time_limit_s)


def load_retry_threshold(reason: str) -> float | None:
    """The load per core above which a failure may be the machine's doing, so it is run again; None when
    it cannot be. Under a load of L, a starved design uses about 1/L of the wall time in CPU time: it
    reaches the CPU-time limit on an oversubscribed machine (L > 1), and the hang guard (10 x the limit)
    before the CPU-time limit only when L > 10. Below that, a run stopped by the hang guard hung."""
    if "SafetyLimitError: CPU-time limit" in reason:
        return 1.0
    if "hang guard" in reason:
        return WALL_GUARD_FACTOR
    return None
