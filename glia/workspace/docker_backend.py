"""The default backend: one long-lived, locked-down container per context; one fresh shell per command.

The repository lives inside the container, on a size-limited tmpfs at /workspace/repo (the working
directory of every command); /tmp is another. The root filesystem is read-only and no host folder is
mounted. With a remote engine (`DOCKER_HOST`) everything works except the ledger socket, the one host
path mounted (it must exist on the engine's machine).

`DockerWorkspace` is the `Workspace` a context sees; each of its jobs has its own module: the container's
life (`docker_container.py`), commands and their time limits (`docker_commands.py`), files in and out
(`docker_files.py`); the container's flags and labels are `containers.py`, one raw exec `docker_exec.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import docker.types
import structlog

from glia.workspace import docker_files, registry
from glia.workspace.base import DEFAULT_LIMITS, ExecResult, Limits, Workspace
from glia.workspace.containers import (
    CONTEXT_LABEL,
    INVOCATION_LABEL,
    MANAGED_LABEL,
    OWNER_LABEL,
    REPO_DIR,
    RUN_LABEL,
)
from glia.workspace.docker_commands import make_repository_folder, run_command
from glia.workspace.docker_container import DockerContainer
from glia.workspace.output import CommandLogs
from glia.workspace.tree import DEFAULT_CAPS, DEFAULT_EXCLUDES, Tree, TreeCaps

log = structlog.get_logger(__name__)

# The labels are re-exported: tests and tools find containers by them.
__all__ = [
    "CONTEXT_LABEL",
    "INVOCATION_LABEL",
    "MANAGED_LABEL",
    "OWNER_LABEL",
    "RUN_LABEL",
    "DockerWorkspace",
]


class DockerWorkspace(Workspace):
    """A context's container. Safe to use from several threads at once."""

    backend = "docker"
    workdir = REPO_DIR

    def __init__(
        self,
        outputs_dir: Path,
        run_id: str,
        context_id: str,
        image: str,
        limits: Limits = DEFAULT_LIMITS,
        ledger_socket: Path | None = None,
        mounts: Sequence[docker.types.Mount] = (),
    ) -> None:
        self.outputs_dir = outputs_dir
        self.run_id = run_id
        self.context_id = context_id
        self.image = image
        self.limits = limits
        self.ledger_socket = Path(ledger_socket) if ledger_socket is not None else None
        self.mounts = tuple(mounts)
        self._container = DockerContainer(run_id, context_id, image, limits, self.ledger_socket, self.mounts)
        self.name = self._container.name
        self._logs = CommandLogs(outputs_dir)

    @property
    def container_id(self) -> str | None:
        """The engine's id of the container; None until started."""
        return self._container.id

    # lifecycle

    def start(self) -> None:
        """Check the engine and the image, start the container, make the repository folder."""
        if self._container.id is not None:
            return
        self._container.start()
        registry.register(self)
        make_repository_folder(self._container)
        log.info("workspace_started", backend="docker", container=self.name, image=self.image)

    def close(self) -> None:
        """Remove the container. Idempotent; later calls raise WorkspaceDead."""
        if not self._container.mark_closed():
            return
        registry.unregister(self)
        self._container.remove()

    def log_to(self, outputs_dir: Path) -> None:
        """Write the logs of later commands under `outputs_dir` (a reused sandbox keeps each job's apart)."""
        self.outputs_dir = outputs_dir
        self._logs = CommandLogs(outputs_dir)

    def restart(self) -> None:
        """Kill every process and start the container again, for reuse by unrelated work.

        What a restart leaves is what a new container would have: a fresh process tree, fresh (empty)
        tmpfs mounts, the same read-only root. Named volumes (the evaluator's channel) keep their files:
        their owner empties them. Much cheaper than a new container where the storage driver copies the
        image (vfs).
        """
        self._container.restart()
        make_repository_folder(self._container)

    def cpu_seconds(self) -> float | None:
        """CPU-seconds the container's processes have used, from the kernel's accounting of its cgroup
        (nothing inside can change it); None before start or when it cannot be read."""
        return self._container.cpu_seconds()

    def __enter__(self) -> DockerWorkspace:
        if self._container.id is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self) -> bool:
        return self._container.state() == "running"

    # commands

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult:
        """Run `command` in a fresh `bash -c` at the repository root, killed after the time limit;
        `env` adds variables to the sandbox's scrubbed environment for this command only."""
        return run_command(self._container, self._logs, command, timeout_s, env)

    # files

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        """Pipe a tar of `tree` into `tar -x` inside; with `replace`, empty the repository first (not .git)."""
        docker_files.write_files(self._container, tree, replace=replace)

    def export_tree(self, excludes: Sequence[str] = DEFAULT_EXCLUDES, caps: TreeCaps = DEFAULT_CAPS) -> Tree:
        """The repository as a Tree: `tar -c` inside, parsed on the host as hostile data, within `caps`."""
        return docker_files.export_tree(self._container, excludes, caps)

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        """One regular file of the repository, at most `max_bytes`; never follows a symlink."""
        return docker_files.read_file(self._container, relpath, max_bytes)
