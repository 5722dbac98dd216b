"""What runs on a cluster node: one `SandboxHost` actor per sandbox, with the node's own Docker engine.

The actor is Glia's Docker backend moved next to the engine: it creates the container with
`DockerWorkspace` (every limit, the read-only root, no network, the scrubbed environment: the same code
as on a workstation) and serves the Workspace calls as plain data. It holds no model key and sees no
transcript. A command's log comes back as bytes for the driver to write into the run folder; an export
comes back as a tar of what the node's parser kept, which the driver parses again as hostile input.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glia.cluster.reaper import watch_this_process
from glia.cluster.relay import Event, NodeRelay
from glia.workspace.base import Limits, WorkspaceError
from glia.workspace.tree import Tree, TreeCaps, tree_to_tar

RESOURCE = "glia_sandbox"  # the custom resource a node declares: how many sandboxes it takes


class SandboxHost:
    """One sandbox on this node. Ray makes it an actor (`glia.cluster.workspace`)."""

    def __init__(self, run_id: str, context_id: str, image: str, limits: Limits, ledger: bool) -> None:
        self.run_id = run_id
        self.context_id = context_id
        self.image = image
        self.limits = limits
        self.relay = NodeRelay() if ledger else None
        self.logs = Path(tempfile.mkdtemp(prefix="glia-node-logs-"))
        self.workspace: Any = None
        watch_this_process()  # its container goes with this actor, even when the node's Ray dies

    def place(self) -> dict[str, str]:
        return node_place()

    def start(self) -> dict[str, str]:
        """Check the node's engine and image, then start the container; returns `place()`."""
        from glia.workspace.docker_backend import DockerWorkspace

        where = node_place()
        self.workspace = DockerWorkspace(
            self.logs,
            self.run_id,
            self.context_id,
            image=self.image,
            limits=self.limits,
            ledger_socket=self.relay.path if self.relay else None,
        )
        try:
            self.workspace.start()
        except WorkspaceError as err:
            raise refusal(where, err, self.image) from None
        return where

    def exec(self, command: str, timeout_s: float | None, env: Mapping[str, str] | None) -> dict[str, Any]:
        return exec_as_data(self.workspace, command, timeout_s, env)

    def write_files(self, tree: Tree, replace: bool) -> None:
        """`tree` comes from the driver (trusted): it is written as it is."""
        self.workspace.write_files(tree, replace=replace)

    def export_tree(self, excludes: Sequence[str], caps: TreeCaps) -> dict[str, Any]:
        tree = self.workspace.export_tree(excludes=excludes, caps=caps)
        return {"tar": tree_to_tar(tree), "skipped": list(tree.skipped), "complete": tree.complete}

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        return self.workspace.read_file(relpath, max_bytes)

    def is_alive(self) -> bool:
        return self.workspace is not None and self.workspace.is_alive()

    def close(self) -> None:
        try:
            if self.workspace is not None:
                self.workspace.close()
        finally:
            if self.relay is not None:
                self.relay.close()
            shutil.rmtree(self.logs, ignore_errors=True)

    # the ledger relay (see glia.cluster.relay)

    def relay_poll(self, timeout_s: float) -> list[Event]:
        return self.relay.poll(timeout_s) if self.relay else []

    def relay_send(self, number: int, data: bytes) -> None:
        if self.relay:
            self.relay.send(number, data)

    def relay_hang_up(self, number: int) -> None:
        if self.relay:
            self.relay.hang_up(number)


def node_place() -> dict[str, str]:
    """Where the calling actor runs: Ray's node id, the node's address and host name."""
    import ray

    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "ip": ray.util.get_node_ip_address(),
        "host": socket.gethostname(),
    }


def refusal(where: Mapping[str, str], err: WorkspaceError, image: str | None = None) -> WorkspaceError:
    """What a failed start says about the node. A missing engine or image is the node's own lasting
    state: a one-line `NodeRefused` naming the node, the image and the fix, and the node is left out.
    Anything else (a container name still in use, a busy engine) is this start's failure only: it is
    returned as it is, with the node named, and the node keeps taking sandboxes."""
    from glia.workspace.base import DockerUnavailable, ImageMissing

    node = f"node {where['ip']} ({where['host']}, {where['node_id'][:12]})"
    if isinstance(err, ImageMissing) and image is not None:
        return NodeRefused(
            f"{node} cannot host a Glia sandbox: it lacks the image {image}: {image_fix(image, where['ip'])}",
            image_only=True,
        )
    if isinstance(err, DockerUnavailable):
        return NodeRefused(f"{node} cannot host a Glia sandbox: {no_engine_text(err)}")
    if isinstance(err, ImageMissing):
        return NodeRefused(f"{node} cannot host a Glia sandbox: {err}", image_only=True)
    return WorkspaceError(f"on {node}: {err}")


def no_engine_text(err: WorkspaceError) -> str:
    """Why a node has no engine and the fix, on one line. The workstation's hint (the local backend) does
    not apply to a node: a node runs sandboxes in Docker or takes none."""
    from glia.workspace.engine import START_ENGINE_HINT

    cause = " ".join(str(err).replace(START_ENGINE_HINT, "").split()).rstrip(". ")[:400]
    return (
        f"{cause}; start Docker on that node (`sudo systemctl start docker`) with the workspace image "
        f"loaded, or start its Ray without the {RESOURCE!r} resource; the run goes on with the other nodes"
    )


def image_fix(image: str, ip: str) -> str:
    """How `image` gets onto the node at `ip`. Glia never copies images: they are large, and a node
    runs only what its owner put there. A task image is made on the driver from the driver's workspace
    image (its tag holds that image's id), so building one on the node gives another tag: copy it."""
    from glia.workspace.task_image import TASK_IMAGE_PREFIX

    copy = f"`docker save {image} | ssh {ip} docker load`"
    if image.startswith(TASK_IMAGE_PREFIX):
        return (
            f"it is the task image this run's driver built for the problem's requirements; copy it there "
            f"with {copy} (run on the driver), then run again"
        )
    return (
        f"build it there with `glia image build`, or copy it with {copy} (run on the driver), then run again"
    )


def exec_as_data(
    workspace: Any, command: str, timeout_s: float | None, env: Mapping[str, str] | None
) -> dict[str, Any]:
    """Run a command in a node's sandbox; its result as fields and its log as bytes (the driver keeps it)."""
    result = workspace.exec(command, timeout_s=timeout_s, env=env)
    log = b""
    node_path = result.output_path
    if node_path is not None and node_path.is_file():
        log = node_path.read_bytes()
        node_path.unlink()
    fields = dict(vars(result))
    fields["output_path"] = str(node_path) if node_path is not None else None
    return {"result": fields, "log": log}


class NodeRefused(WorkspaceError):
    """This node cannot host the sandbox (no Docker engine, no image); the message names the node and the fix.

    `image_only`: the node lacks this image but may host others."""

    def __init__(self, message: str, image_only: bool = False) -> None:
        super().__init__(message)
        self.image_only = image_only

    def __reduce__(self) -> tuple:  # it crosses from the node to the driver
        return (NodeRefused, (str(self), self.image_only))
