"""The Workspace interface: where a context's commands run, over that context's own repository.

Backends (Docker, local) implement it; agents, the orchestrator and the evaluator depend only on this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    """Resource limits of one workspace. Defaults suit a 2-core, 24 GiB workstation."""

    memory: str = "4g"
    cpus: float = 1.0
    pids: int = 256
    default_timeout_s: float = 300.0
    max_timeout_s: float = 1800.0
    output_limit_chars: int = 10_000
    lifetime_s: float = 6 * 3600.0  # self-destruct: the container never outlives its run


DEFAULT_LIMITS = Limits()  # immutable, so safe as a shared default argument


@dataclass
class ExecResult:
    """What one command did. `output` is head+tail truncated; the full output is at `output_path`."""

    command: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    output: str
    output_path: Path | None
    truncated: bool
    output_bytes: int


class Workspace(Protocol):
    """A sandbox over one repository folder (`repo_path` on the host, the working directory inside)."""

    repo_path: Path
    backend: str

    def start(self) -> None: ...

    def exec(self, command: str, timeout_s: float | None = None) -> ExecResult: ...

    def is_alive(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Workspace: ...

    def __exit__(self, *exc: object) -> None: ...


class WorkspaceError(Exception):
    """A workspace could not be created or used; the message says what fixes it."""


class WorkspaceDead(WorkspaceError):
    """The container (or local shell) died: the context ends with this status, the model is not told."""


class DockerUnavailable(WorkspaceError):
    """No Docker engine answers; the message says how to start one."""


class ImageMissing(WorkspaceError):
    """The workspace image is not built; the message names `glia image build`."""
