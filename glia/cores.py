"""The machine's cores, shared by everything a run computes: one scheduler, so a run never oversubscribes itself.

A trusted evaluation's simulations and the contexts' own simulations all take a core from `MACHINE`
for as long as they run: with four contexts simulating and the judge evaluating, the judge's jobs wait
for a free core instead of competing for one. The limits that decide validity are in CPU time
(`llmsim/cpu_limits.py`), so waiting changes no verdict; the scheduler keeps wall-clock times sane and
`glia solve` states the figure it plans with (`plan_line`).

`oversubscribed()` tells whether the machine is busier than its cores (other users, other runs):
a limit reached then is retried before it condemns a design (`glia/evaluation/evaluator.py`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_per_core() -> float | None:
    """Runnable work per core: the larger of the one-minute load average and the tasks runnable right
    now (the average lags a burst by a minute), or None where the system says neither."""
    loads = []
    with contextlib.suppress(AttributeError, OSError):
        loads.append(os.getloadavg()[0])
    try:
        running = Path("/proc/loadavg").read_text().split()[3].split("/")[0]
        loads.append(max(0, int(running) - 1))  # less this process, which is reading
    except (OSError, IndexError, ValueError):
        pass
    return max(loads) / machine_cores() if loads else None


def oversubscribed(threshold: float = 1.0) -> bool:
    """Whether more work wants the CPUs than there are cores (load per core above `threshold`)."""
    load = load_per_core()
    return load is not None and load > threshold


class CoreScheduler:
    """A counting semaphore of cores; every simulation holds one while it runs."""

    def __init__(self, cores: int) -> None:
        self.cores = max(1, int(cores))
        self._free = threading.Semaphore(self.cores)
        self._held: dict[object, bool] = {}  # key -> whether a core was really taken
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def core(self, timeout_s: float | None = None) -> Iterator[bool]:
        """Hold a core for the block; yields False when none came within `timeout_s` (it runs anyway)."""
        taken = self._free.acquire(timeout=timeout_s)
        try:
            yield taken
        finally:
            if taken:
                self._free.release()

    def take(self, key: object, timeout_s: float) -> bool:
        """Take a core for `key` (released by `give`); after `timeout_s` the caller goes on without one,
        so that a starved simulation is slowed, never refused."""
        taken = self._free.acquire(timeout=timeout_s)
        if not taken:
            log.warning("cores.none_free", cores=self.cores, waited_s=timeout_s)
        with self._lock:
            self._held[key] = taken
        return taken

    def give(self, key: object) -> None:
        """Give back what `key` took (a no-op for a key that holds nothing)."""
        with self._lock:
            taken = self._held.pop(key, False)
        if taken:
            self._free.release()

    @property
    def in_use(self) -> int:
        with self._lock:
            return sum(self._held.values())


def _configured_cores() -> int:
    """GLIA_CORES, when set to a positive whole number, narrows the scheduler (the machine is shared)."""
    value = os.environ.get("GLIA_CORES", "")
    return int(value) if value.isdigit() and int(value) > 0 else machine_cores()


MACHINE = CoreScheduler(_configured_cores())


SIMULATION_WAIT_S = 120.0  # then a context's simulation runs without a core (well within its ack timeout)


def hold_core(key: object) -> None:
    """The ledger's hook: a context's simulation that the ledger lets start holds a core while it runs."""
    MACHINE.take(key, SIMULATION_WAIT_S)


def release_core(key: object) -> None:
    """The ledger's hook: the simulation ended (or was lost); its core is free again."""
    MACHINE.give(key)


def plan_line(contexts: int, eval_workers: int) -> str:
    """The one line `glia solve` prints at the start: how many cores it plans to use, and for what."""
    return (
        f"Cores: {MACHINE.cores} on this machine, shared by {contexts} context(s)' simulations and the "
        f"trusted evaluations (up to {eval_workers} at once): each simulation holds one core while it runs."
    )
