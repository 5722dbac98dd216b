"""Every open workspace of this process, so that Ctrl-C, SIGTERM or a normal exit closes them all.

The orchestrator and the CLI call `install_signal_cleanup()` once, from the main thread. Containers also
carry a self-destruct timer, which covers the one case this cannot: the host process killed with -9.
"""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class Closable(Protocol):
    def close(self) -> None: ...


_open: dict[int, Closable] = {}
_sweepers: list[Callable[[bool], object]] = []
_lock = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
_installed = False


def add_sweeper(sweep: Callable[[bool], object]) -> None:
    """Run `sweep(thorough)` after closing the open workspaces (the Docker backend removes its
    invocation's containers with it; `thorough` on signals, when a container may still be starting)."""
    with _lock:
        _sweepers.append(sweep)


def register(workspace: Closable) -> None:
    with _lock:
        _open[id(workspace)] = workspace


def unregister(workspace: Closable) -> None:
    with _lock:
        _open.pop(id(workspace), None)


def open_workspaces() -> list[Closable]:
    with _lock:
        return list(_open.values())


def close_all(sweep: bool = True, thorough: bool = False) -> int:
    """Close every open workspace, then run the sweepers (errors are logged, not raised).

    Returns how many workspaces were closed.
    """
    closed = 0
    for workspace in open_workspaces():
        try:
            workspace.close()
            closed += 1
        except Exception as err:  # cleanup must go on to the next workspace
            log.error("workspace_close_failed", error=str(err))
        unregister(workspace)
    if sweep:
        with _lock:
            sweepers = list(_sweepers)
        for sweeper in sweepers:
            try:
                sweeper(thorough)
            except Exception as err:  # an engine gone away must not hide the original exit reason
                log.error("workspace_sweep_failed", error=str(err))
    return closed


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    log.warning("interrupted_closing_workspaces", count=len(open_workspaces()))
    close_all(thorough=True)
    raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    log.warning("terminated_closing_workspaces", count=len(open_workspaces()))
    close_all(thorough=True)
    raise SystemExit(128 + signum)


def install_signal_cleanup() -> None:
    """On SIGINT close all workspaces then raise KeyboardInterrupt; on SIGTERM close them then exit.

    Also closes them at interpreter exit. Only the main thread can install signal handlers: elsewhere, and
    when called again, it does nothing.
    """
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_sigint)
    signal.signal(signal.SIGTERM, _on_sigterm)
    atexit.register(close_all)
    _installed = True
