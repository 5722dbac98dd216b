"""The Workspace interface: where a context's commands run, and the only door its files pass through.

The repository lives inside the sandbox. Files cross the boundary only as data: `write_files` sends a
`Tree` in, `export_tree` brings one out (parsed on the host as hostile input), `read_file` reads one
file with a size cap and a time limit. Backends (Docker, local) implement it; agents, the orchestrator
and the evaluator depend only on this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from glia.workspace.tree import DEFAULT_CAPS, DEFAULT_EXCLUDES, Tree, TreeCaps

LEDGER_ENV = "GLIA_LEDGER"
LEDGER_MOUNT = "/run/glia/ledger.sock"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one workspace. Defaults suit a 2-core, 24 GiB workstation.

    `disk` and `tmp` size the in-memory (tmpfs) filesystems of the repository and of /tmp. Their pages
    count toward the container's `memory` limit: a repository filled to 2 GiB leaves 2 GiB of the
    default 4 GiB for processes.
    """

    memory: str = "4g"
    cpus: float = 1.0
    pids: int = 256
    default_timeout_s: float = 300.0
    max_timeout_s: float = 1800.0
    output_limit_chars: int = 10_000  # the excerpt the model sees
    output_keep_bytes: int = 4 * 2**20  # the host log of a command keeps this much head AND tail
    disk: str = "2g"  # tmpfs size of the repository (/workspace)
    tmp: str = "512m"  # tmpfs size of /tmp
    lifetime_s: float = 6 * 3600.0  # self-destruct: the container never outlives its run


DEFAULT_LIMITS = Limits()  # immutable, so safe as a shared default argument


@dataclass
class ExecResult:
    """What one command did. `output` is head+tail truncated; the host log is at `output_path`."""

    command: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    output: str
    output_path: Path | None
    truncated: bool
    output_bytes: int


class Workspace(Protocol):
    """A sandbox holding one repository at `workdir` (as commands see it)."""

    backend: str
    workdir: str
    run_id: str
    context_id: str
    limits: Limits

    def start(self) -> None: ...

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult: ...

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        """Put `tree` into the repository; `replace` first deletes everything but `.git`."""
        ...

    def export_tree(
        self, excludes: Sequence[str] = DEFAULT_EXCLUDES, caps: TreeCaps = DEFAULT_CAPS
    ) -> Tree: ...

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        """One regular file of the repository (WorkspaceFileError: missing, not regular, too big, slow)."""
        ...

    def is_alive(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Workspace: ...

    def __exit__(self, *exc: object) -> None: ...


class WorkspaceError(Exception):
    """A workspace could not be created or used; the message says what fixes it."""


class WorkspaceDead(WorkspaceError):
    """The container (or local shell) died: the context ends with this status, the model is not told."""


class WorkspaceFileError(WorkspaceError):
    """A file could not be read from or written to the sandbox (missing, not regular, too big, timed out)."""


class DockerUnavailable(WorkspaceError):
    """No Docker engine answers; the message says how to start one."""


class ImageMissing(WorkspaceError):
    """The workspace image is not built; the message names `glia image build`."""
