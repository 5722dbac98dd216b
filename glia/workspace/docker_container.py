"""One context's container as a living thing: started locked down, asked how it is, restarted, removed.

Every exec the Docker backend makes (the Researcher's commands, Glia's own file transfers) is opened
here, as the sandbox user with the scrubbed environment, and only in a container that is still running:
a dead container is `WorkspaceDead` (the context ends with it), never a command that failed. What runs in
the exec and how its output is read is for `docker_commands.py` and `docker_files.py`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import structlog

from glia.workspace import registry
from glia.workspace.base import Limits, WorkspaceDead, WorkspaceError
from glia.workspace.containers import (
    MANAGED_LABEL,
    OWNER_LABEL,
    REPO_DIR,
    command_environment,
    container_name,
    container_options,
    grant_socket,
    owner,
    remove_invocation_containers,
    remove_quietly,
    sandbox_user,
)
from glia.workspace.cpu_usage import CpuUsage
from glia.workspace.docker_exec import EXEC_ERRORS, ExecStream
from glia.workspace.engine import docker_client, low_level_client, require_image

log = structlog.get_logger(__name__)

STALE_REMOVAL_S = 60.0  # how long a leftover container of this name may take to go (vfs removal is slow)
_sweeper_installed = False
_sweeper_lock = threading.Lock()


def _install_sweeper() -> None:
    """Once per process: exit paths also remove containers of this invocation not (yet) registered."""
    global _sweeper_installed
    with _sweeper_lock:
        if not _sweeper_installed:
            registry.add_sweeper(lambda thorough: remove_invocation_containers(passes=2 if thorough else 1))
            _sweeper_installed = True


class DockerContainer:
    """The container of one (run, context), from `start` to `remove`. Safe to use from several threads."""

    def __init__(
        self,
        run_id: str,
        context_id: str,
        image: str,
        limits: Limits,
        ledger_socket: Path | None,
        mounts: Sequence[docker.types.Mount],
    ) -> None:
        self.run_id = run_id
        self.context_id = context_id
        self.image = image
        self.limits = limits
        self.ledger_socket = ledger_socket
        self.mounts = tuple(mounts)
        self.name = container_name(run_id, context_id)
        self.id: str | None = None
        self.closed = False
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._environment = command_environment(ledger_socket)
        self._cpu: CpuUsage | None = None

    def start(self) -> None:
        """Check the engine and the image, remove a stale container of this name, start a new one."""
        client = docker_client()
        require_image(client, self.image)
        self._client = client
        _install_sweeper()
        self._remove_stale(client)
        if self.ledger_socket is not None:
            if not self.ledger_socket.exists():
                raise WorkspaceError(f"the ledger socket {self.ledger_socket} does not exist")
            grant_socket(self.ledger_socket)
        options = container_options(
            self.image, self.run_id, self.context_id, self.limits, self.ledger_socket, self.mounts
        )
        try:
            container = client.containers.run(**options)
        except docker.errors.APIError as err:
            raise WorkspaceError(f"Could not start workspace container {self.name}: {err}") from err
        self.id = container.id
        self._cpu = CpuUsage(low_level_client(client, timeout_s=30), container.id)

    def _remove_stale(self, client: docker.DockerClient) -> None:
        """A container of ours with this name is a leftover of a crashed session of this very run."""
        try:
            stale = client.containers.get(self.name)
        except docker.errors.NotFound:
            return
        tags = stale.labels or {}
        if tags.get(MANAGED_LABEL) != "1" or tags.get(OWNER_LABEL) != owner():
            raise WorkspaceError(
                f"a container named {self.name} exists and is not this user's Glia workspace; "
                "remove it yourself or use another run id"
            )
        log.warning("removing_stale_container", container=self.name)
        remove_quietly(stale)
        # Someone else may be removing it already (a cluster node's reaper, the engine's auto-remove):
        # the name is free only once the container is gone.
        deadline = time.monotonic() + STALE_REMOVAL_S
        while time.monotonic() < deadline:
            try:
                client.containers.get(self.name)
            except docker.errors.NotFound:
                return
            time.sleep(0.2)
        raise WorkspaceError(
            f"the stale container {self.name} was still being removed after {STALE_REMOVAL_S:g} s; "
            "run `glia cleanup` and try again"
        )

    def mark_closed(self) -> bool:
        """True the first time only: whoever gets it removes the container; every later use is refused."""
        with self._lock:
            if self.closed:
                return False
            self.closed = True
            return True

    def remove(self) -> None:
        """Remove the container (already gone is fine) and let go of the engine's connections."""
        if self._cpu is not None:
            self._cpu.api.close()
        if self._client is None or self.id is None:
            return
        try:
            remove_quietly(self._client.containers.get(self.id))
        except docker.errors.NotFound:
            pass
        finally:
            self._client.close()
        log.info("workspace_closed", backend="docker", container=self.name)

    def restart(self) -> None:
        """Kill every process and boot the same container again (see `DockerWorkspace.restart`)."""
        if self.closed or self._client is None or self.id is None:
            raise WorkspaceDead(f"Workspace container {self.name} cannot restart: {self.state()}")
        try:
            self._client.containers.get(self.id).restart(timeout=0)
        except docker.errors.APIError as err:
            raise WorkspaceDead(f"Workspace container {self.name} did not restart: {err}") from err
        if self._cpu is not None:
            self._cpu.reset_source()

    def cpu_seconds(self) -> float | None:
        """CPU-seconds from the kernel's accounting of the container's cgroup; None before start or closed."""
        if self._cpu is None or self.closed:
            return None
        return self._cpu.seconds()

    def state(self) -> str:
        """The container's status, or a sentence saying why there is none."""
        if self.closed:
            return "closed by Glia"
        if self.id is None:
            return "never started"
        api = low_level_client(self._client, timeout_s=60)
        try:
            state = api.inspect_container(self.id)["State"]
        except docker.errors.NotFound:
            return (
                "gone: the container was removed (stopped or killed, its self-destruct timer of "
                f"{self.limits.lifetime_s:g} s ran out, or `glia cleanup` removed it)"
            )
        finally:
            api.close()
        if state.get("Running"):
            return "running"
        details = f"exit code {state.get('ExitCode')}"
        if state.get("OOMKilled"):
            details += ", killed for running out of memory"
        return f"{state.get('Status', 'stopped')} ({details})"

    def require_alive(self) -> None:
        state = self.state()
        if state != "running":
            raise WorkspaceDead(f"Workspace container {self.name} is not running: {state}")

    def require_alive_after_kill(self, settle_s: float = 1.0) -> None:
        """A killed container looks like a killed command from inside, and its state lags: look twice."""
        deadline = time.monotonic() + settle_s
        while True:
            self.require_alive()
            if time.monotonic() >= deadline:
                return
            time.sleep(0.2)

    def _open_exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bool = False,
        workdir: str = REPO_DIR,
        env: Mapping[str, str] | None = None,
    ) -> tuple[Any, ExecStream]:
        """A started exec of `argv` as the sandbox user (caller closes both)."""
        self.require_alive()
        api = low_level_client(self._client, timeout_s=60)
        try:
            stream = ExecStream(
                api,
                self.id or "",
                argv,
                user=sandbox_user(),
                workdir=workdir,
                environment={**self._environment, **(env or {})},
                stdin=stdin,
            )
        except BaseException:
            api.close()
            raise
        return api, stream

    @contextlib.contextmanager
    def exec_stream(
        self,
        argv: Sequence[str],
        failed: str,
        *,
        stdin: bool = False,
        workdir: str = REPO_DIR,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[ExecStream]:
        """An exec of `argv`, closed on the way out. An engine error is this container's death when it
        is dead (`WorkspaceDead`), else `WorkspaceError("{failed}: {error}")`; other errors pass."""
        api = stream = None
        try:
            api, stream = self._open_exec(argv, stdin=stdin, workdir=workdir, env=env)
            yield stream
        except WorkspaceDead:
            raise
        except EXEC_ERRORS as err:
            self.require_alive()
            raise WorkspaceError(f"{failed}: {err}") from err
        finally:
            if stream is not None:
                stream.close()
            if api is not None:
                api.close()
