"""Which node takes the next sandbox: the one with the most free declared slots, never a full one.

Each node declares its capacity as the Ray resource `glia_sandbox`; every sandbox actor asks for one
unit of it and is pinned to the node chosen here, so Ray itself refuses to start more than a node
declares, and this process spreads its sandboxes instead of piling them on the first node. Nodes that
refused a sandbox (no engine, no image) or died are left out for the rest of the process, with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from glia.cluster.host import RESOURCE
from glia.workspace.base import WorkspaceError

log = structlog.get_logger(__name__)

Listener = Callable[[str, dict[str, Any]], None]  # (context id, where + replaced)


class Placement:
    """This process's view of the cluster's sandbox slots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use: dict[str, int] = {}
        self._refused: dict[tuple[str, str], str] = {}  # (node id, image or "*") -> why
        self._listeners: dict[str, Listener] = {}
        self._reclaimers: dict[object, Callable[[], bool]] = {}

    def nodes(self, image: str = "*") -> dict[str, int]:
        """Alive nodes that declare sandbox slots and have not refused `image`: node id -> slots."""
        import ray

        found = {}
        with self._lock:
            refused = set(self._refused)
        for node in ray.nodes():
            slots = int((node.get("Resources") or {}).get(RESOURCE, 0))
            left_out = (node["NodeID"], "*") in refused or (node["NodeID"], image) in refused
            if node.get("Alive") and slots > 0 and not left_out:
                found[node["NodeID"]] = slots
        return found

    def acquire(self, image: str = "*", wait_s: float = 6 * 3600.0, units: int = 1) -> str:
        """A node id with `units` free slots (counted as used until `release`); waits while all are full,
        first asking idle holders (an evaluator's kept sandboxes) to give theirs back."""
        deadline = time.monotonic() + wait_s
        warned = False
        while True:
            node = self.try_acquire(image, units)
            if node is not None:
                return node
            if self._reclaim():
                continue
            if time.monotonic() > deadline:
                raise WorkspaceError(f"no sandbox slot came free on the cluster within {wait_s:g} s")
            if not warned:
                log.info("cluster.waiting_for_a_slot", units=units)
                warned = True
            time.sleep(0.5)

    def try_acquire(self, image: str = "*", units: int = 1) -> str | None:
        """A node with `units` free slots now (the one with the most), or None when every node is full."""
        nodes = self.nodes(image)
        with self._lock:
            if not nodes:
                raise WorkspaceError(self._no_nodes_message(image))
            if max(nodes.values()) < units:
                raise WorkspaceError(
                    f"no node of the cluster declares {units} {RESOURCE!r} slots, which a trusted "
                    f"evaluation's core and design sandboxes need on one node: declare at least {units}"
                )
            free = {node: slots - self._in_use.get(node, 0) for node, slots in nodes.items()}
            best = max(free, key=lambda node: free[node])
            if free[best] < units:
                return None
            self._in_use[best] = self._in_use.get(best, 0) + units
            return best

    def reclaimable(self, reclaim: Callable[[], bool] | None, key: object) -> None:
        """`reclaim()` gives back one idle holding (True) or has none (False); None unregisters `key`."""
        with self._lock:
            if reclaim is None:
                self._reclaimers.pop(key, None)
            else:
                self._reclaimers[key] = reclaim

    def _reclaim(self) -> bool:
        with self._lock:
            reclaimers = list(self._reclaimers.values())
        return any(reclaim() for reclaim in reclaimers)

    def release(self, node: str, units: int = 1) -> None:
        with self._lock:
            self._in_use[node] = max(0, self._in_use.get(node, 0) - units)

    def refuse(self, node: str, why: str, image: str = "*") -> None:
        """Leave `node` out from now on, for `image` only (it lacks it) or for all ("*": no engine, dead)."""
        with self._lock:
            self._refused[(node, image)] = why
        log.warning("cluster.node_left_out", node=node, image=image, why=why)

    def refused(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._refused)

    def in_use(self) -> dict[str, int]:
        with self._lock:
            return {node: count for node, count in self._in_use.items() if count}

    def _no_nodes_message(self, image: str) -> str:
        reasons = "; ".join(why for (_, refused), why in self._refused.items() if refused in ("*", image))
        if reasons:
            return f"no cluster node can host a sandbox: {reasons}"
        return (
            f"no node of the Ray cluster declares the resource {RESOURCE!r}: start each node with "
            f"`ray start ... --resources='{{\"{RESOURCE}\": N}}'` (N sandboxes it may run)"
        )

    # where contexts run, for run.json and the live table

    def listen(self, run_id: str, listener: Listener | None) -> None:
        with self._lock:
            if listener is None:
                self._listeners.pop(run_id, None)
            else:
                self._listeners[run_id] = listener

    def announce(self, run_id: str, context_id: str, where: dict[str, Any]) -> None:
        with self._lock:
            listener = self._listeners.get(run_id)
        log.info("cluster.sandbox_placed", run=run_id, context=context_id, **where)
        if listener is not None:
            try:
                listener(context_id, where)
            except Exception:  # a broken view must not stop the sandbox
                log.exception("cluster.placement_listener_failed")


PLACEMENT = Placement()
