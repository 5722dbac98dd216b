"""Sandboxed workspaces: the only place a context's commands run, holding its repository inside.

`create_workspace` picks a backend: "docker" (the default, isolated), "ray" (the same Docker sandbox on a
node of a Ray cluster, `glia.cluster`) or "local" (host subprocesses, no sandbox: callers must have the
user's explicit opt-in, see `glia.workspace.unsafe`). The workspace is
returned unstarted; use it as a context manager or call `start()`. Files cross only as data (`Tree`):
`write_files`, `export_tree`, `read_file`. A context's history lives on the host in a bare repository
written by `git fast-import` (`History`); `Snapshotter` moves trees between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from glia.workspace.base import (
    DEFAULT_LIMITS,
    LEDGER_ENV,
    LEDGER_MOUNT,
    DockerUnavailable,
    ExecResult,
    ImageMissing,
    Limits,
    Workspace,
    WorkspaceDead,
    WorkspaceError,
    WorkspaceFileError,
)
from glia.workspace.containers import (
    cleanup_containers,
    container_options,
    invocation_id,
    list_containers,
    remove_invocation_containers,
    sandbox_ids,
    sandbox_user,
)
from glia.workspace.docker_backend import DockerWorkspace
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.history import History, HistoryError
from glia.workspace.local_backend import LocalWorkspace
from glia.workspace.registry import close_all, install_signal_cleanup
from glia.workspace.snapshots import SavedTree, Snapshotter
from glia.workspace.tree import (
    DEFAULT_CAPS,
    DEFAULT_EXCLUDES,
    Tree,
    TreeCaps,
    TreeEntry,
    tree_from_folder,
    tree_from_tar_stream,
    tree_to_tar,
)

BACKENDS = ("docker", "local")
# Backends running sandboxes on other machines, registered by the package that provides them when it is
# imported (glia.cluster registers "ray"), so that this layer never imports the ones above it.
_REMOTE_BACKENDS: dict[str, Callable[..., Workspace]] = {}


def register_remote_backend(name: str, factory: Callable[..., Workspace]) -> None:
    """`factory(outputs_dir, run_id, context_id, image=, limits=, ledger_socket=)` -> an unstarted workspace."""
    _REMOTE_BACKENDS[name] = factory


__all__ = [
    "BACKENDS",
    "register_remote_backend",
    "DEFAULT_CAPS",
    "DEFAULT_EXCLUDES",
    "DEFAULT_IMAGE",
    "LEDGER_ENV",
    "LEDGER_MOUNT",
    "DockerUnavailable",
    "DockerWorkspace",
    "ExecResult",
    "History",
    "HistoryError",
    "ImageMissing",
    "Limits",
    "LocalWorkspace",
    "SavedTree",
    "Snapshotter",
    "Tree",
    "TreeCaps",
    "TreeEntry",
    "Workspace",
    "WorkspaceDead",
    "WorkspaceError",
    "WorkspaceFileError",
    "build_image",
    "cleanup_containers",
    "close_all",
    "container_options",
    "create_workspace",
    "install_signal_cleanup",
    "invocation_id",
    "list_containers",
    "remove_invocation_containers",
    "sandbox_ids",
    "sandbox_user",
    "tree_from_folder",
    "tree_from_tar_stream",
    "tree_to_tar",
]


def build_image(tag: str = DEFAULT_IMAGE, method: str = "auto") -> str:
    """Build the workspace image (see `glia.workspace.image.build_image`); returns the image id."""
    from glia.workspace.image import build_image as build

    return build(tag=tag, method=method)


def create_workspace(
    backend: str,
    outputs_dir: Path,
    run_id: str,
    context_id: str,
    image: str = DEFAULT_IMAGE,
    limits: Limits = DEFAULT_LIMITS,
    ledger_socket: Path | None = None,
    mounts: Sequence[Any] = (),
) -> Workspace:
    """An unstarted workspace writing command logs to `outputs_dir`.

    `ledger_socket`: a host unix socket made reachable to commands as $GLIA_LEDGER (Docker: bind-mounted
    at /run/glia/ledger.sock). `mounts`: extra `docker.types.Mount`s (the trusted evaluator's shared
    tmpfs volume); Docker only. Its repository starts empty: fill it with `write_files`.
    """
    if ledger_socket is not None and len(str(Path(ledger_socket).resolve()).encode()) > 107:
        raise WorkspaceError(
            f"the ledger socket path {ledger_socket} is longer than AF_UNIX allows (107 bytes)"
        )
    if backend == "docker":
        return DockerWorkspace(
            outputs_dir,
            run_id,
            context_id,
            image=image,
            limits=limits,
            ledger_socket=ledger_socket,
            mounts=mounts,
        )
    remote = _REMOTE_BACKENDS.get(backend)
    if remote is not None:  # a sandbox on another machine (the "ray" backend: a cluster node, glia.cluster)
        if mounts:
            raise WorkspaceError("extra mounts need the docker backend (they name this machine's volumes)")
        return remote(
            outputs_dir, run_id, context_id, image=image, limits=limits, ledger_socket=ledger_socket
        )
    if backend == "ray":
        raise WorkspaceError(
            "the 'ray' backend runs sandboxes on a Ray cluster that this process has not joined; "
            "pass --cluster (install glia[cluster])"
        )
    if backend == "local":
        if mounts:
            raise WorkspaceError("extra mounts need the docker backend")
        return LocalWorkspace(outputs_dir, run_id, context_id, limits=limits, ledger_socket=ledger_socket)
    raise ValueError(f"unknown workspace backend {backend!r}; choose one of {', '.join(BACKENDS)}")
