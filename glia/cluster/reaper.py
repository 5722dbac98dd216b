"""A node's sandboxes removed when the actor that made them dies, however it dies.

A node's Docker engine outlives its Ray processes: when a node's raylet is killed (or the actor is
SIGKILLed, which is how Ray kills actors), the containers a `SandboxHost` or `PairHost` actor created
would run on until their self-destruct timer, hours later, holding the node's memory and cores. So each
such actor process starts one watcher (`watch_this_process`): a small process in its own session, no
child of the actor (Ray's clean-up of a dead worker's children does not reach it), that blocks on a pipe
from the actor. The pipe closes when the actor process ends, whatever ended it; the watcher then
removes the containers and volumes labelled with that process's invocation id (exactly what it made)
and exits. An actor that closed its sandboxes itself leaves the watcher nothing to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

_lock = threading.Lock()
_watcher: subprocess.Popen[bytes] | None = None  # kept: its stdin is the pipe the watcher waits on


def watch_this_process() -> None:
    """Start this process's watcher, once; its containers are removed when this process ends."""
    global _watcher
    from glia.workspace.containers import invocation_id

    with _lock:
        if _watcher is not None:
            return
        _watcher = subprocess.Popen(
            [sys.executable, "-m", "glia.cluster.reaper", invocation_id()],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # no signal to the actor's group reaches it
        )


def remove_invocation(invocation: str) -> list[str]:
    """Remove the containers, then the volumes, that the process with `invocation` created."""
    from glia.workspace.containers import list_containers, remove_containers, remove_volumes

    removed = remove_containers([c.name for c in list_containers(invocation=invocation)])
    remove_volumes(invocation=invocation)
    return removed


def _main(invocation: str) -> None:
    if os.fork():  # the watcher proper is a grandchild: no child of the actor's process
        os._exit(0)
    try:
        while sys.stdin.buffer.read(4096):  # nothing is ever written: this ends when the actor is gone
            pass
    finally:
        remove_invocation(invocation)


if __name__ == "__main__":
    _main(sys.argv[1])
