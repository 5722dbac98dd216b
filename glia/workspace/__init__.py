"""Sandboxed workspaces: a context's own git repository plus the only place its commands run.

`create_workspace` picks a backend: "docker" (the default, isolated) or "local" (unsandboxed host
subprocesses). The workspace is returned unstarted; use it as a context manager or call `start()`.
"""

from __future__ import annotations

from pathlib import Path

from glia.workspace.base import (
    DEFAULT_LIMITS,
    DockerUnavailable,
    ExecResult,
    ImageMissing,
    Limits,
    Workspace,
    WorkspaceDead,
    WorkspaceError,
)
from glia.workspace.docker_backend import DockerWorkspace, cleanup_containers, container_options
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.local_backend import LocalWorkspace
from glia.workspace.registry import close_all, install_signal_cleanup
from glia.workspace.repo import diff, first_commit, head_sha, init_repo, read_file_at, restore_file, snapshot

BACKENDS = ("docker", "local")

__all__ = [
    "BACKENDS",
    "DEFAULT_IMAGE",
    "DockerUnavailable",
    "DockerWorkspace",
    "ExecResult",
    "ImageMissing",
    "Limits",
    "LocalWorkspace",
    "Workspace",
    "WorkspaceDead",
    "WorkspaceError",
    "build_image",
    "cleanup_containers",
    "close_all",
    "container_options",
    "create_workspace",
    "diff",
    "first_commit",
    "head_sha",
    "init_repo",
    "install_signal_cleanup",
    "read_file_at",
    "restore_file",
    "snapshot",
]


def build_image(tag: str = DEFAULT_IMAGE, method: str = "auto") -> str:
    """Build the workspace image (see `glia.workspace.image.build_image`); returns the image id."""
    from glia.workspace.image import build_image as build

    return build(tag=tag, method=method)


def create_workspace(
    backend: str,
    repo_path: Path,
    outputs_dir: Path,
    run_id: str,
    context_id: str,
    image: str = DEFAULT_IMAGE,
    limits: Limits = DEFAULT_LIMITS,
) -> Workspace:
    """A workspace over `repo_path` writing full command outputs to `outputs_dir` (not yet started)."""
    if backend == "docker":
        return DockerWorkspace(repo_path, outputs_dir, run_id, context_id, image=image, limits=limits)
    if backend == "local":
        return LocalWorkspace(repo_path, outputs_dir, run_id, context_id, limits=limits)
    raise ValueError(f"unknown workspace backend {backend!r}; choose one of {', '.join(BACKENDS)}")
