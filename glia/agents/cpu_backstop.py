"""The budget's backstop: the sandbox's CPU time, which it cannot forge, bounds what a context computes.

Counting simulations is cooperative: the simulator reports its own runs from inside the sandbox, and
code there can skip the report. The kernel's CPU accounting of the sandbox's container cannot be
skipped. After every command, and every `check_every_s` while one runs, the host compares the CPU time
the container has used with what the context's counted simulations and an allowance for everything
else explain:

    credit += (allowance granted since the last check) - (CPU time used since the last check)
    credit  = min(credit, max_credit_s)

where the allowance is `start_s` once, `simulation_s` per counted simulation and `command_s` per
command. Unused allowance carries over, up to `max_credit_s` (a background job's runs use their
allowance in later commands), so it cannot be saved up across a long session for one uncounted burst.
When the credit goes below zero, ceil(-credit / simulation_s) simulations are charged to the shared
budget as *uncounted compute* (and the credit goes back up by as much): never refused, because the compute already happened, so a spent budget ends the run as any
spent budget does. Each charge is a transcript event (`uncounted_compute`), a note at the end of the
command's result, and goes into run.json's usage and notes. An honest context stays far below the
line: the shipped simulator's benchmark run takes about 0.7 CPU-s and analysis commands well under a
second.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from glia.record.transcript import Transcript
from glia.record.writer import UNCOUNTED_COMPUTE, EventWriter

log = structlog.get_logger()

UNCOUNTED_EVENT = UNCOUNTED_COMPUTE


@dataclass(frozen=True)
class CpuPolicy:
    """CPU-seconds each thing may use before the rest counts as simulations nobody reported.

    `simulation_s` is also the rate at which unexplained CPU time becomes simulations: about seven
    times what the shipped simulator's benchmark run costs, so honest larger experiments fit, and an
    uncounted run costs at worst a seventh of a counted one.
    """

    simulation_s: float = 5.0  # per counted simulation (its run, its snapshot, reading its results)
    command_s: float = 5.0  # per command: analysis, git, editing, the shell itself
    start_s: float = 10.0  # once per sandbox session
    max_credit_s: float = 30.0  # unused allowance kept for later (a background job's runs)
    check_every_s: float = 5.0  # how often a running command is checked

    def explained(self, simulations: int, commands: int) -> float:
        return self.start_s + simulations * self.simulation_s + commands * self.command_s


class UncountedCharger(Protocol):
    """The part of `glia.budget.Budget` (or a context's view) that takes the charge."""

    def charge_uncounted(self, n: int, cpu_s: float) -> int: ...


class CpuBackstop:
    """Compares one sandbox's CPU time with its counted simulations; charges what they cannot explain.

    `read_cpu()` is the container's CPU-seconds so far (None when unreadable: nothing is charged then,
    and the record says the backstop could not read it); `counted()` the context's counted
    simulations. Thread-safe: the periodic check runs on its own thread.
    """

    def __init__(
        self,
        read_cpu: Callable[[], float | None],
        counted: Callable[[], int],
        budget: UncountedCharger,
        transcript: Transcript,
        policy: CpuPolicy | None = None,
    ) -> None:
        self.read_cpu = read_cpu
        self.counted = counted
        self.budget = budget
        self.transcript = transcript
        self.policy = policy or CpuPolicy()
        self._lock = threading.Lock()
        self._baseline = read_cpu()
        self._baseline_counted = counted()
        self.commands = 0
        self.charged = 0  # simulations charged so far
        self.charged_cpu_s = 0.0  # the unexplained CPU time they were charged for
        self.used_s = 0.0
        self._granted = 0.0  # the explanation granted so far (policy.explained)
        self._credit = 0.0  # explanation left unused, at most policy.max_credit_s
        self._call_id: str | None = None
        self._pending: list[str] = []  # notes for the command's result
        self._ticker: threading.Thread | None = None
        self._stop_ticker = threading.Event()
        if self._baseline is None:
            EventWriter(transcript).uncounted_compute(
                {"unreadable": True, "note": "the sandbox's CPU time cannot be read"}
            )
            log.warning("cpu_backstop.unreadable")

    @property
    def active(self) -> bool:
        return self._baseline is not None

    def command_started(self, call_id: str) -> None:
        """A command begins: its allowance is granted now, and it is checked every few seconds."""
        with self._lock:
            self.commands += 1
            self._call_id = call_id
        if self.active:
            self._stop_ticker.clear()
            self._ticker = threading.Thread(target=self._tick, name="glia-cpu-backstop", daemon=True)
            self._ticker.start()

    def command_ended(self) -> str | None:
        """The command is over: check once more; the note for its result, or None."""
        self._stop_ticker.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        self.check()
        with self._lock:
            self._call_id = None
            notes, self._pending = self._pending, []
        return " ".join(notes) if notes else None

    def check(self) -> int:
        """Read the CPU time and charge what is unexplained; returns the simulations charged now."""
        if self._baseline is None:
            return 0
        now = self.read_cpu()
        if now is None:
            return 0
        policy = self.policy
        with self._lock:
            used = max(self.used_s, now - self._baseline)
            counted = self.counted() - self._baseline_counted
            granted = policy.explained(counted, self.commands)
            self._credit += (granted - self._granted) - (used - self.used_s)
            self._credit = min(self._credit, policy.max_credit_s)
            self.used_s, self._granted = used, granted
            if self._credit >= 0:
                return 0
            unexplained = -self._credit
            new = math.ceil(unexplained / policy.simulation_s - 1e-9)
            self._credit += new * policy.simulation_s
            self.charged += new
            self.charged_cpu_s += new * policy.simulation_s
            total = self.budget.charge_uncounted(new, new * policy.simulation_s)
            fields = {
                "call_id": self._call_id,
                "charged": new,
                "charged_total": self.charged,
                "cpu_used_s": round(used, 3),
                "cpu_unexplained_s": round(unexplained, 3),
                "cpu_charged_total_s": round(self.charged_cpu_s, 3),
                "counted_simulations": counted,
                "commands": self.commands,
                "run_total": total,
            }
            self._pending.append(
                f"[Uncounted compute: this sandbox used {unexplained:.1f} CPU-seconds more than its "
                f"{counted} counted simulation(s) and {self.commands} command(s) explain, so {new} "
                f"simulation(s) were charged to the budget ({self.charged} in all; "
                f"{policy.simulation_s:g} CPU-seconds each).]"
            )
        EventWriter(self.transcript).uncounted_compute(fields)
        log.warning("cpu_backstop.charged", **fields)
        return new

    def close(self) -> None:
        self._stop_ticker.set()

    def _tick(self) -> None:
        while not self._stop_ticker.wait(self.policy.check_every_s):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - a failed read must not kill the command
                log.warning("cpu_backstop.check_failed", error=str(exc))
