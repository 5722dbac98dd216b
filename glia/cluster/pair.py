"""What a trusted evaluation runs on a node: its core and design sandboxes, as one `PairHost` actor.

The two sandboxes of an isolated simulation talk through unix sockets on a small tmpfs volume of the
node's own Docker engine, so they must live on one node: the actor keeps them as the evaluator's own
`SandboxPool` (the same code as on a workstation: the same limits, the same restart between
evaluations, the channel emptied), and serves its Workspace calls by role ("core" or "design") as plain
data. It holds no secret of the run beyond what the core sandbox gets locally (the workload and its
seeds, in the commands), and every byte it returns is parsed and verified again on the driver.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from glia.cluster.host import exec_as_data, node_place, refusal
from glia.cluster.reaper import watch_this_process
from glia.workspace.base import WorkspaceDead, WorkspaceError
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.tree import Tree

ROLES = ("core", "design")
UNITS = 2  # slots of the node's `glia_sandbox` resource one pair takes: two sandboxes


def units_for(hosted: bool) -> int:
    """Slots a lane takes: a core and a design sandbox, or the core alone for a built-in design (a
    baseline router runs inside the simulator: no design sandbox to start)."""
    return UNITS if hosted else 1


class PairHost:
    """A core and a design sandbox on this node. Ray makes it an actor (`glia.cluster.evaluation`)."""

    def __init__(self, run_id: str, image: str | None, time_limit_s: float) -> None:
        from glia.evaluation.sandboxes import SandboxPool

        self.logs = Path(tempfile.mkdtemp(prefix="glia-node-eval-"))
        self.image = image or DEFAULT_IMAGE
        self.pool = SandboxPool(run_id, image, 1, time_limit_s, "docker")  # one simulation at a time
        self.members: dict[str, Any] = {}
        watch_this_process()  # its sandboxes and channel volume go with this actor, even when Ray dies

    def place(self) -> dict[str, str]:
        return node_place()

    def acquire(self, hosted: bool) -> dict[str, str]:
        """Fresh sandboxes for the next evaluation (restarted when reused); returns `place()`."""
        where = node_place()
        try:
            core, design = self.pool.acquire(self.logs, hosted)
        except WorkspaceError as err:
            raise refusal(where, err, self.image) from None
        self.members = {"core": core, "design": design}
        return where

    def _member(self, role: str) -> Any:
        member = self.members.get(role) if role in ROLES else None
        if member is None:
            raise WorkspaceDead(f"the evaluation's {role} sandbox is not open on this node")
        return member

    def exec(
        self, role: str, command: str, timeout_s: float | None, env: Mapping[str, str] | None
    ) -> dict[str, Any]:
        return exec_as_data(self._member(role), command, timeout_s, env)

    def write_files(self, role: str, tree: Tree, replace: bool) -> None:
        """`tree` comes from the driver (trusted): it is written as it is."""
        self._member(role).write_files(tree, replace=replace)

    def read_file(self, role: str, relpath: str, max_bytes: int) -> bytes:
        return self._member(role).read_file(relpath, max_bytes)

    def is_alive(self, role: str) -> bool:
        member = self.members.get(role)
        return member is not None and member.is_alive()

    def discard(self) -> None:
        """Drop the sandboxes (they misbehaved); the next `acquire` starts new ones."""
        self.members = {}
        self.pool.discard()

    def close(self) -> None:
        try:
            self.discard()
        finally:
            shutil.rmtree(self.logs, ignore_errors=True)
