"""The default backend: one long-lived, locked-down container per context; one fresh shell per command.

The repository lives inside the container, on a size-limited tmpfs at /workspace/repo (the working
directory of every command); /tmp is another. The root filesystem is read-only and no host folder is
mounted: files cross only as data (`write_files` pipes a host-made tar into `tar -x`; `export_tree`
streams `tar -c` out and parses it on the host as hostile input; `read_file` reads one capped file).
A full repository gives the command an ordinary "No space left on device"; the container lives on.
With a remote engine (`DOCKER_HOST`) everything works except the ledger socket, the one host path
mounted (it must exist on the engine's machine).

Time limits are enforced inside the container (`timeout -k`, which kills the command's whole process
group); the host gives up a little later as a backstop, because killing `docker exec` on the host would
not stop anything inside. When a command ends (or times out), whatever is left of its process group is
killed. A job meant to outlive the command must leave the group: `setsid nohup JOB > log 2>&1 &`; `exec`
returns when the shell exits. Redirect such a job's output: what it prints later is otherwise lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import structlog

from glia.workspace import registry
from glia.workspace.base import (
    DEFAULT_LIMITS,
    ExecResult,
    Limits,
    Workspace,
    WorkspaceDead,
    WorkspaceError,
    WorkspaceFileError,
)
from glia.workspace.commands import (
    BACKSTOP_S,
    KILL_GRACE_S,
    killed_note,
    looks_timed_out,
    resolve_timeout,
    timeout_argv,
)
from glia.workspace.containers import (
    CONTEXT_LABEL,
    INVOCATION_LABEL,
    MANAGED_LABEL,
    OWNER_LABEL,
    REPO_DIR,
    RUN_LABEL,
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
from glia.workspace.docker_exec import EXEC_ERRORS, STDERR, STDOUT, BoundedText, ExecStream, ExecTimeout
from glia.workspace.engine import docker_client, low_level_client, require_image
from glia.workspace.output import CommandLogs, OutputCapture
from glia.workspace.sandbox_scripts import (
    CLEAR_SCRIPT,
    EXTRACT_SCRIPT,
    READ_MISSING,
    READ_NOT_REGULAR,
    READ_SCRIPT,
    READ_TOO_BIG,
    SKIP_PREFIX,
    export_arguments,
)
from glia.workspace.tree import (
    DEFAULT_CAPS,
    DEFAULT_EXCLUDES,
    Tree,
    TreeCaps,
    path_problem,
    tree_from_tar_stream,
    tree_to_tar,
)

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

INTERNAL_TIMEOUT_S = 120.0  # writing a tree, clearing the repository
READ_TIMEOUT_S = 30.0
_sweeper_installed = False
_sweeper_lock = threading.Lock()


def _install_sweeper() -> None:
    """Once per process: exit paths also remove containers of this invocation not (yet) registered."""
    global _sweeper_installed
    with _sweeper_lock:
        if not _sweeper_installed:
            registry.add_sweeper(lambda thorough: remove_invocation_containers(passes=2 if thorough else 1))
            _sweeper_installed = True


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
        self.name = container_name(run_id, context_id)
        self.container_id: str | None = None
        self._logs = CommandLogs(outputs_dir)
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._environment = command_environment(self.ledger_socket)
        self._cpu: CpuUsage | None = None

    # lifecycle

    def start(self) -> None:
        """Check the engine and the image, start the container, make the repository folder."""
        if self.container_id is not None:
            return
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
        self.container_id = container.id
        self._cpu = CpuUsage(low_level_client(client, timeout_s=30), container.id)
        registry.register(self)
        self._internal(["mkdir", "-p", REPO_DIR], what="make the repository folder", workdir="/")
        log.info("workspace_started", backend="docker", container=self.name, image=self.image)

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

    def close(self) -> None:
        """Remove the container. Idempotent; later calls raise WorkspaceDead."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        registry.unregister(self)
        if self._cpu is not None:
            self._cpu.api.close()
        if self._client is None or self.container_id is None:
            return
        try:
            remove_quietly(self._client.containers.get(self.container_id))
        except docker.errors.NotFound:
            pass
        finally:
            self._client.close()
        log.info("workspace_closed", backend="docker", container=self.name)

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
        if self._closed or self._client is None or self.container_id is None:
            raise WorkspaceDead(f"Workspace container {self.name} cannot restart: {self._state()}")
        try:
            self._client.containers.get(self.container_id).restart(timeout=0)
        except docker.errors.APIError as err:
            raise WorkspaceDead(f"Workspace container {self.name} did not restart: {err}") from err
        if self._cpu is not None:
            self._cpu.reset_source()
        self._internal(["mkdir", "-p", REPO_DIR], what="make the repository folder", workdir="/")

    def cpu_seconds(self) -> float | None:
        """CPU-seconds the container's processes have used, from the kernel's accounting of its cgroup
        (nothing inside can change it); None before start or when it cannot be read."""
        if self._cpu is None or self._closed:
            return None
        return self._cpu.seconds()

    def __enter__(self) -> DockerWorkspace:
        if self.container_id is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self) -> bool:
        return self._state() == "running"

    def _state(self) -> str:
        """The container's status, or a sentence saying why there is none."""
        if self._closed:
            return "closed by Glia"
        if self.container_id is None:
            return "never started"
        api = low_level_client(self._client, timeout_s=60)
        try:
            state = api.inspect_container(self.container_id)["State"]
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

    def _require_alive(self) -> None:
        state = self._state()
        if state != "running":
            raise WorkspaceDead(f"Workspace container {self.name} is not running: {state}")

    def _require_alive_after_kill(self, settle_s: float = 1.0) -> None:
        """A killed container looks like a killed command from inside, and its state lags: look twice."""
        deadline = time.monotonic() + settle_s
        while True:
            self._require_alive()
            if time.monotonic() >= deadline:
                return
            time.sleep(0.2)

    def _open(
        self,
        argv: Sequence[str],
        *,
        stdin: bool = False,
        workdir: str = REPO_DIR,
        env: Mapping[str, str] | None = None,
    ) -> tuple[Any, ExecStream]:
        """A started exec of `argv` as the sandbox user (caller closes both)."""
        self._require_alive()
        api = low_level_client(self._client, timeout_s=60)
        try:
            stream = ExecStream(
                api,
                self.container_id or "",
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

    # commands

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult:
        """Run `command` in a fresh `bash -c` at the repository root, killed after the time limit;
        `env` adds variables to the sandbox's scrubbed environment for this command only."""
        limit = resolve_timeout(timeout_s, self.limits)
        output_path = self._logs.next_path()
        capture = OutputCapture(output_path, self.limits.output_limit_chars, self.limits.output_keep_bytes)
        started = time.monotonic()
        api = stream = None
        finished = True
        exit_code: int | None = None
        try:
            api, stream = self._open(timeout_argv(command, limit), env=env)
            deadline = started + limit + KILL_GRACE_S + BACKSTOP_S
            try:
                for _stream_id, payload in stream.frames(deadline):
                    capture.write(payload)
            except ExecTimeout:
                finished = False
            if finished:  # the output ended; a command that closed it early may still be running
                exit_code = stream.wait_exit_code(timeout_s=max(deadline - time.monotonic(), 0.0) + 1.0)
                finished = exit_code is not None
        except WorkspaceDead:
            raise
        except EXEC_ERRORS as err:
            self._require_alive()
            raise WorkspaceError(f"exec in {self.name} failed: {err}") from err
        finally:
            capture.close()
            if stream is not None:
                stream.close()
            if api is not None:
                api.close()
        duration = time.monotonic() - started
        if exit_code is None or exit_code == 137:
            self._require_alive_after_kill()
        output, truncated = capture.excerpt()
        timed_out = not finished or looks_timed_out(exit_code, duration, limit)
        return ExecResult(
            command=command,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=duration,
            output=output + killed_note(exit_code, timed_out, self.limits),
            output_path=output_path,
            truncated=truncated,
            output_bytes=capture.total_bytes,
        )

    def _internal(
        self,
        argv: Sequence[str],
        *,
        what: str,
        stdin_data: bytes | None = None,
        timeout_s: float = INTERNAL_TIMEOUT_S,
        workdir: str = REPO_DIR,
    ) -> str:
        """Run one of Glia's own commands; returns its (bounded) output, raises WorkspaceError on failure."""
        argv = ["timeout", "-k", "2", f"{timeout_s:g}", *argv]
        output = BoundedText(64 * 1024)
        api = stream = None
        try:
            api, stream = self._open(argv, stdin=stdin_data is not None, workdir=workdir)
            if stdin_data is not None:
                stream.send([stdin_data])
            for _stream_id, payload in stream.frames(time.monotonic() + timeout_s + 5):
                output.add(payload)
            code = stream.wait_exit_code()
        except ExecTimeout as err:
            raise WorkspaceFileError(f"could not {what} within {timeout_s:g} s") from err
        except WorkspaceDead:
            raise
        except EXEC_ERRORS as err:
            self._require_alive()
            raise WorkspaceError(f"could not {what} in {self.name}: {err}") from err
        finally:
            if stream is not None:
                stream.close()
            if api is not None:
                api.close()
        if code != 0:
            self._require_alive()
            detail = output.text().strip()[-1000:] or f"exit code {code}"
            raise WorkspaceFileError(f"could not {what}: {detail}")
        return output.text()

    # files

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        """Pipe a tar of `tree` into `tar -x` inside; with `replace`, empty the repository first (not .git)."""
        if replace:
            self._internal(
                ["bash", "-c", CLEAR_SCRIPT, "glia-clear", REPO_DIR], what="clear the repository", workdir="/"
            )
        if len(tree) == 0:
            return
        self._internal(
            ["bash", "-c", EXTRACT_SCRIPT, "glia-extract", REPO_DIR],
            what=f"write {len(tree)} files",
            stdin_data=tree_to_tar(tree),
            workdir="/",
        )

    def export_tree(self, excludes: Sequence[str] = DEFAULT_EXCLUDES, caps: TreeCaps = DEFAULT_CAPS) -> Tree:
        """The repository as a Tree: `tar -c` inside, parsed on the host as hostile data, within `caps`."""
        argv = export_arguments(REPO_DIR, caps.max_file_bytes, caps.max_depth, caps.max_path_bytes, excludes)
        argv = ["timeout", "-k", "2", f"{caps.timeout_s:g}", *argv]
        errors = BoundedText(256 * 1024)
        api = stream = None
        try:
            api, stream = self._open(argv, workdir="/")
            frames = stream.frames(time.monotonic() + caps.timeout_s + 2)
            late: list[str] = []

            def stdout_chunks() -> Any:
                try:
                    for stream_id, payload in frames:
                        if stream_id == STDERR:
                            errors.add(payload)
                        elif stream_id == STDOUT:
                            yield payload
                except ExecTimeout:
                    late.append("export incomplete: the time limit was reached")

            chunks = stdout_chunks()
            tree = tree_from_tar_stream(chunks, caps, excludes)
            if tree.complete:
                _drain(chunks, caps.max_stream_bytes)
            if late:
                tree = tree.with_skipped(late, complete=False)
            if not tree.complete:
                self._require_alive()
        except WorkspaceDead:
            raise
        except EXEC_ERRORS as err:
            self._require_alive()
            raise WorkspaceError(f"could not export the repository of {self.name}: {err}") from err
        finally:
            if stream is not None:
                stream.close()
            if api is not None:
                api.close()
        return tree.with_skipped(_stderr_notes(errors, caps.max_skipped_listed))

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        """One regular file of the repository, at most `max_bytes`; never follows a symlink."""
        problem = path_problem(relpath)
        if problem:
            raise WorkspaceFileError(f"{relpath!r}: {problem}")
        argv = ["timeout", "-k", "1", f"{READ_TIMEOUT_S:g}", "python3", "-I", "-S", "-c", READ_SCRIPT]
        argv += [REPO_DIR, relpath, str(max_bytes)]
        data = bytearray()
        api = stream = None
        try:
            api, stream = self._open(argv, workdir="/")
            for stream_id, payload in stream.frames(time.monotonic() + READ_TIMEOUT_S + 3):
                if stream_id == STDOUT:
                    data += payload[: max_bytes + 1 - len(data)]
                    if len(data) > max_bytes:
                        break
            code = stream.wait_exit_code(timeout_s=2.0) if len(data) <= max_bytes else READ_TOO_BIG
        except ExecTimeout as err:
            raise WorkspaceFileError(f"{relpath}: reading took longer than {READ_TIMEOUT_S:g} s") from err
        except WorkspaceDead:
            raise
        except EXEC_ERRORS as err:
            self._require_alive()
            raise WorkspaceError(f"could not read {relpath} in {self.name}: {err}") from err
        finally:
            if stream is not None:
                stream.close()
            if api is not None:
                api.close()
        if code == READ_MISSING:
            raise WorkspaceFileError(f"{relpath}: no such file")
        if code == READ_NOT_REGULAR:
            raise WorkspaceFileError(f"{relpath}: not a regular file (or behind a symlink)")
        if code == READ_TOO_BIG or len(data) > max_bytes:
            raise WorkspaceFileError(f"{relpath}: bigger than {max_bytes} bytes")
        if code != 0:
            raise WorkspaceFileError(f"{relpath}: could not be read (exit code {code})")
        return bytes(data)


def _drain(chunks: Any, limit: int) -> None:
    """Read what follows the archive's end (stderr notes come last); stops at `limit` bytes."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            return


def _stderr_notes(errors: BoundedText, max_lines: int) -> list[str]:
    """The exporter's "glia-skip" lines as "path: why", and anything else it said, bounded."""
    notes: list[str] = []
    for line in errors.text().splitlines():
        if len(notes) >= max_lines:
            notes.append("... more messages from the exporter were left out")
            break
        if line.startswith(SKIP_PREFIX):
            _, why, path = (line.split("\t", 2) + ["", ""])[:3]
            notes.append(f"{_printable(path)}: {why}")
        elif line.strip():
            notes.append(f"exporter: {_printable(line)}")
    if errors.dropped:
        notes.append(f"exporter: {errors.dropped} more bytes of messages left out")
    return notes


def _printable(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 300 else text[:300] + "..."
