"""Ctrl-C and SIGTERM during a run: the first asks every context to stop, the second leaves at once.

The first signal only sets the run's stop event; contexts notice it at their next step, end with
'interrupted' and close their containers, and the orchestrator records the run as interrupted. A second
signal does not wait: it runs the emergency cleanup (close open workspaces, remove the run's containers,
mark run.json) and exits the process.
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

    Outside the main thread (where Python cannot install handlers) it does nothing: the caller's own
    handling applies. Previous handlers are restored on exit.
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
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

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
