"""Ctrl-C and SIGTERM during a run: the first asks every context to stop, the second leaves at once.

The first signal only sets the run's stop event; contexts notice it at their next step, end with
'interrupted' and close their containers, and the orchestrator records the run as interrupted. A second
signal does not wait: it runs the emergency cleanup (close open workspaces, remove the run's containers,
mark run.json) and exits the process.

Runs driven in worker threads (a parallel comparison's) cannot install a handler: their guards join
`OFF_MAIN`, and the main thread, which gets the Ctrl-C as a KeyboardInterrupt, stops them all with
`OFF_MAIN.stop_all()` (and, on a second one, cleans them all up with `OFF_MAIN.clean_up_all()`).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

import structlog

log = structlog.get_logger()

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
FORCED_EXIT_CODE = 130


class InterruptGuard:
    """Context manager installing the two-stage handler for the duration of a run.

    Outside the main thread (where Python cannot install handlers) it joins `OFF_MAIN` instead: the
    caller's main thread stops it. Previous handlers are restored on exit.
    """

    def __init__(
        self,
        stop: threading.Event,
        emergency_cleanup: Callable[[], None],
        exit_process: Callable[[int], Any] = os._exit,
    ) -> None:
        self.stop = stop
        self._emergency_cleanup = emergency_cleanup
        self._exit_process = exit_process
        self._previous: dict[int, Any] = {}
        self.signals_received = 0

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        else:
            OFF_MAIN.add(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        OFF_MAIN.discard(self)

    def emergency_cleanup(self) -> None:
        self._emergency_cleanup()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signals_received += 1
        name = signal.Signals(signum).name
        if self.signals_received == 1:
            log.warning("run.stopping", signal=name, hint="press Ctrl-C again to quit at once")
            self.stop.set()
            return
        log.warning("run.forced_exit", signal=name)
        try:
            self._emergency_cleanup()
        finally:
            self._exit_process(FORCED_EXIT_CODE)


class OffMainRuns:
    """The guards of runs under way in worker threads, for the main thread to stop. Once `stop_all` was
    called, a run that starts late is stopped as it joins, until `reset`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: list[InterruptGuard] = []
        self._stopping = False

    def add(self, guard: InterruptGuard) -> None:
        with self._lock:
            self._guards.append(guard)
            if self._stopping:
                guard.stop.set()

    def discard(self, guard: InterruptGuard) -> None:
        with self._lock:
            self._guards = [g for g in self._guards if g is not guard]

    def stop_all(self) -> int:
        """First Ctrl-C: ask every run under way to stop (they end 'interrupted'); how many there were."""
        with self._lock:
            self._stopping = True
            guards = list(self._guards)
        for guard in guards:
            guard.stop.set()
        log.warning("runs.stopping", runs=len(guards), hint="press Ctrl-C again to quit at once")
        return len(guards)

    def clean_up_all(self) -> None:
        """Second Ctrl-C: each run's emergency cleanup (close, remove containers, mark run.json)."""
        with self._lock:
            guards = list(self._guards)
        for guard in guards:
            try:
                guard.emergency_cleanup()
            except Exception:  # noqa: BLE001 - the others must still be cleaned up
                log.exception("run.emergency_cleanup_failed")

    def stopping(self) -> bool:
        with self._lock:
            return self._stopping

    def under_way(self) -> int:
        with self._lock:
            return len(self._guards)

    def reset(self) -> None:
        with self._lock:
            self._stopping = False


OFF_MAIN = OffMainRuns()
