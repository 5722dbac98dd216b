"""The two processes of an isolated run share one CPU, while that CPU is theirs.

The core and the design process take turns: every call blocks until it is answered, so the pair never
needs two CPUs at once. On one CPU a round trip is two context switches; spread over two CPUs, each
half of it wakes a CPU that went idle, which on a virtual machine costs several times the CPU time
(``benchmarks/isolation_cost.py`` prints both floors). So the core pins itself to the CPU it runs on and
asks the design process to pin itself there too (``PIN_CALL``). A pinned pair cannot leave a CPU that
other work wants: at the run's limit checks (``RemoteCpu.poll``) the core looks at the share of a CPU
the pair got over the last window of wall time, and below ``MIN_SHARE`` it lets go of the pin for the
rest of the run. ``GLIA_SHARE_CPU=0`` turns pinning off. Pinning changes no result and no CPU-time
limit: it only makes the round trips cheaper. Imports only the standard library.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

PIN_CALL = "pin_cpu"  # the design host's handler: pin to this CPU (-1: back to every allowed CPU)
SHARE_ENV = "GLIA_SHARE_CPU"
MIN_SHARE = 0.6  # of one CPU, used by the pair over a window: less means other work wants the CPU
WINDOW_S = 0.25  # wall seconds a share is measured over


def current_cpu() -> int | None:
    """The CPU this process is running on (field 39 of /proc/self/stat), or None where unknown."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[36])
    except (OSError, IndexError, ValueError):
        return None


def allowed_cpus() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set()


def pin_self(cpu: Any, allowed: set[int]) -> bool:
    """Pin this process to `cpu` (-1: every CPU of `allowed`); False for a CPU outside `allowed`.
    The design host runs this for the core's PIN_CALL, so `cpu` is checked before use."""
    if isinstance(cpu, bool) or not isinstance(cpu, int) or (cpu != -1 and cpu not in allowed):
        return False
    try:
        os.sched_setaffinity(0, allowed if cpu == -1 else {cpu})
    except OSError:
        return False
    return True


class CpuShare:
    """The core's end: pins both processes to the core's CPU at the start, lets go when crowded."""

    def __init__(self, call: Any, errors: tuple[type[BaseException], ...]) -> None:
        self._call, self._errors = call, errors
        self.cpu: int | None = None
        self._allowed = allowed_cpus()
        self._mark: tuple[float, float, float] | None = None
        if os.environ.get(SHARE_ENV, "1") == "0" or len(self._allowed) < 2:
            return
        cpu = current_cpu()
        if cpu is None or cpu not in self._allowed or not self._ask(cpu):
            return
        if pin_self(cpu, self._allowed):
            self.cpu = cpu
        else:
            self._ask(-1)

    def check(self, design_cpu_s: float) -> None:
        """After a CPU-time poll: let go of the pin if, over the last window, the pair (this process
        and the design process, `design_cpu_s` as it reports) got less than MIN_SHARE of its CPU."""
        if self.cpu is None:
            return
        now = (time.perf_counter(), time.process_time(), design_cpu_s)
        mark, self._mark = self._mark, now
        if mark is None:
            return
        wall = now[0] - mark[0]
        if wall < WINDOW_S:
            self._mark = mark  # keep measuring from the window's start
            return
        if (now[1] - mark[1] + now[2] - mark[2]) / wall < MIN_SHARE:
            self.release()

    def release(self, tell_peer: bool = True) -> None:
        """This process (and, with `tell_peer`, the design process) back on every allowed CPU: the
        CPU is crowded, or the run ends (then the design process ends too)."""
        if self.cpu is None:
            return
        self.cpu = None
        pin_self(-1, self._allowed)
        if tell_peer:
            self._ask(-1)

    def _ask(self, cpu: int) -> bool:
        with contextlib.suppress(*self._errors):
            return self._call(PIN_CALL, cpu) is True
        return False
