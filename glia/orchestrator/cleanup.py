"""What a session leaves behind when it ends: the evaluator's sandboxes closed and the run's containers
removed (checked again until none is left), and open workspaces closed at interpreter exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger()

CONTAINER_CLEANUP_S = 20.0


def close_evaluator(evaluator: Any, run_id: str) -> None:
    """Release the evaluator's sandboxes (kept between evaluations during the session)."""
    close = getattr(evaluator, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # cleanup problems are logged; the backstop removes what is left
            log.exception("run.evaluator_close_failed", run_id=run_id)


def remove_containers(
    cleanup: Callable[[str], Any], run_id: str, deadline_s: float = CONTAINER_CLEANUP_S
) -> None:
    """Remove the run's containers, and check again until none is left.

    A context closing its own workspace at the same moment leaves a container whose removal is
    under way; if this process exits before the engine is done, the removal can be abandoned. So
    repeat until a pass finds nothing (bounded by `deadline_s`).
    """
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            found = cleanup(run_id)
        except Exception:  # cleanup problems are logged; the run's own outcome matters more
            log.exception("run.container_cleanup_failed", run_id=run_id)
            return
        if not found or time.monotonic() >= deadline:
            return
        time.sleep(0.5)


def default_container_cleanup() -> Callable[[str], Any]:
    from glia.workspace import remove_invocation_containers  # only what this process created

    return remove_invocation_containers


def install_workspace_cleanup() -> None:
    """Close open workspaces at interpreter exit (our own handler owns the signals during the run)."""
    if threading.current_thread() is threading.main_thread():
        from glia.workspace import install_signal_cleanup

        install_signal_cleanup()
