"""The default backend: one long-lived, locked-down container per context; one fresh shell per command.

The context's repository is bind-mounted at /workspace/repo, which is the working directory of every
command; its `.git` is mounted read-only on top, so commands can read history (`git diff`, `git log`) but
cannot rewrite it or plant git config that the host would later obey. With a remote engine
(`DOCKER_HOST`), the repository path must exist on the engine's machine too (a shared filesystem):
the bind mount is the one thing that does not travel.

Time limits are enforced inside the container (`timeout -k`, which kills the command's whole process
group); the host gives up a little later as a backstop, because killing `docker exec` on the host would
not stop anything inside. When a command ends (or times out), whatever is left of its process group is
killed. A job meant to outlive the command must leave the group: `setsid nohup JOB > log 2>&1 &`; `exec`
returns when the shell exits. Redirect such a job's output: what it prints later is otherwise lost, and
an unredirected job delays `exec` by about a second.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
import structlog

from glia.workspace import registry
from glia.workspace.base import DEFAULT_LIMITS, ExecResult, Limits, Workspace, WorkspaceDead, WorkspaceError
from glia.workspace.commands import (
    BACKSTOP_S,
    KILL_GRACE_S,
    killed_note,
    looks_timed_out,
    resolve_timeout,
    sandbox_environment,
    timeout_argv,
)
from glia.workspace.engine import docker_client, low_level_client, require_image
from glia.workspace.output import CommandLogs, OutputCapture

log = structlog.get_logger(__name__)

REPO_MOUNT = "/workspace/repo"
CONTAINER_HOME = "/tmp"
MANAGED_LABEL = "glia.managed"
RUN_LABEL = "glia.run"
CONTEXT_LABEL = "glia.context"
POLL_S = 0.5  # how often a silent command is checked on
FRAME_HEADER = struct.Struct(">BxxxL")  # docker's stream framing: stream id, 3 pad bytes, length


def container_name(run_id: str, context_id: str) -> str:
    """`glia-<run>-ctx<k>`, reduced to the characters Docker accepts in a name."""
    context = re.sub(r"^ctx-?", "", context_id)
    name = re.sub(r"[^a-zA-Z0-9_.-]+", "-", f"glia-{run_id}-ctx{context}")
    return name.strip("-.") or "glia-workspace"


def host_user() -> str:
    """uid:gid of the invoking user: what commands run as, so their files stay editable on the host."""
    return f"{os.getuid()}:{os.getgid()}"


def container_options(
    image: str, repo_path: Path, run_id: str, context_id: str, limits: Limits
) -> dict[str, Any]:
    """Every flag of a workspace container, in one place (keyword arguments of `containers.run`)."""
    repo = repo_path.resolve()
    volumes = {str(repo): {"bind": REPO_MOUNT, "mode": "rw"}}
    if (repo / ".git").is_dir():
        volumes[str(repo / ".git")] = {"bind": f"{REPO_MOUNT}/.git", "mode": "ro"}
    return {
        "image": image,
        # The self-destruct timer: when `sleep` ends the container stops and auto_remove deletes it,
        # even if the host process was killed with -9 and never called close().
        "command": ["sleep", f"{int(limits.lifetime_s)}"],
        "name": container_name(run_id, context_id),
        "labels": {MANAGED_LABEL: "1", RUN_LABEL: run_id, CONTEXT_LABEL: context_id},
        "detach": True,
        "auto_remove": True,
        "init": True,  # a real PID 1 reaps the orphans of background jobs
        "user": host_user(),
        "environment": sandbox_environment(CONTAINER_HOME),
        "working_dir": REPO_MOUNT,
        "volumes": volumes,
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "mem_limit": limits.memory,
        "memswap_limit": limits.memory,  # no swap on top of the memory limit
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "hostname": "glia-workspace",
    }


class DockerWorkspace(Workspace):
    """A context's container. Safe to `exec` from several threads at once."""

    backend = "docker"

    def __init__(
        self,
        repo_path: Path,
        outputs_dir: Path,
        run_id: str,
        context_id: str,
        image: str,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.repo_path = repo_path
        self.outputs_dir = outputs_dir
        self.run_id = run_id
        self.context_id = context_id
        self.image = image
        self.limits = limits
        self.name = container_name(run_id, context_id)
        self.container_id: str | None = None
        self._logs = CommandLogs(outputs_dir)
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._closed = False

    # lifecycle

    def start(self) -> None:
        """Check the engine and the image, then start the container (replacing a stale one of ours)."""
        if self.container_id is not None:
            return
        client = docker_client()
        require_image(client, self.image)
        self._client = client
        self._remove_stale(client)
        options = container_options(self.image, self.repo_path, self.run_id, self.context_id, self.limits)
        try:
            container = client.containers.run(**options)
        except docker.errors.APIError as err:
            raise WorkspaceError(f"Could not start workspace container {self.name}: {err}") from err
        self.container_id = container.id
        registry.register(self)
        log.info("workspace_started", backend="docker", container=self.name, image=self.image)

    def _remove_stale(self, client: docker.DockerClient) -> None:
        """A container of ours with the same name is a leftover of a crashed run with this id."""
        try:
            stale = client.containers.get(self.name)
        except docker.errors.NotFound:
            return
        if stale.labels.get(MANAGED_LABEL) == "1":
            log.warning("removing_stale_container", container=self.name)
            _remove_quietly(stale)

    def close(self) -> None:
        """Remove the container. Idempotent; later `exec` calls raise WorkspaceDead."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        registry.unregister(self)
        if self._client is None or self.container_id is None:
            return
        try:
            _remove_quietly(self._client.containers.get(self.container_id))
        except docker.errors.NotFound:
            pass
        finally:
            self._client.close()
        log.info("workspace_closed", backend="docker", container=self.name)

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

    # commands

    def exec(self, command: str, timeout_s: float | None = None) -> ExecResult:
        """Run `command` in a fresh `bash -c` at the repository root, killed after the time limit."""
        limit = resolve_timeout(timeout_s, self.limits)
        self._require_alive()
        output_path = self._logs.next_path()
        capture = OutputCapture(output_path, self.limits.output_limit_chars)
        api = low_level_client(self._client, timeout_s=60)
        started = time.monotonic()
        try:
            exec_id = api.exec_create(
                self.container_id,
                cmd=timeout_argv(command, limit),
                stdout=True,
                stderr=True,
                environment=sandbox_environment(CONTAINER_HOME),
                workdir=REPO_MOUNT,
                user=host_user(),
            )["Id"]
            stream = api.exec_start(exec_id, socket=True)
            finished = _pump(
                api, exec_id, stream, capture, deadline=started + limit + KILL_GRACE_S + BACKSTOP_S
            )
            exit_code = api.exec_inspect(exec_id)["ExitCode"] if finished else None
        except (docker.errors.DockerException, requests.RequestException, OSError) as err:
            self._require_alive()
            raise WorkspaceError(f"exec in {self.name} failed: {err}") from err
        finally:
            capture.close()
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


def _pump(api: docker.APIClient, exec_id: str, stream: Any, capture: OutputCapture, deadline: float) -> bool:
    """Copy the exec's framed output into `capture` until the shell exits; False if the backstop hit.

    Returns as soon as the shell has exited even if a background child still holds the stream open.
    """
    sock = getattr(stream, "_sock", stream)  # the raw socket under the SDK's file wrapper
    sock.settimeout(POLL_S)
    pending = bytearray()
    next_check = time.monotonic() + POLL_S
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                return False
            if now >= next_check:
                next_check = now + POLL_S
                if not api.exec_inspect(exec_id)["Running"]:
                    _drain_frames(pending, capture)
                    return True
            try:
                data = sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not data:
                _drain_frames(pending, capture)
                return True
            pending += data
            _drain_frames(pending, capture)
    finally:
        stream.close()


def _drain_frames(pending: bytearray, capture: OutputCapture) -> None:
    """Move every complete frame (stdout and stderr alike) from `pending` into `capture`."""
    while len(pending) >= FRAME_HEADER.size:
        _stream_id, size = FRAME_HEADER.unpack_from(pending)
        end = FRAME_HEADER.size + size
        if len(pending) < end:
            return
        capture.write(bytes(pending[FRAME_HEADER.size : end]))
        del pending[:end]


def _remove_quietly(container: Any) -> None:
    """Kill and remove; a container already on its way out (auto-remove) is fine."""
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        if "removal of container" not in str(err) and "is already in progress" not in str(err):
            raise


def cleanup_containers(run_id: str | None = None) -> list[str]:
    """Remove every Glia workspace container (of one run, or all); returns the names removed."""
    client = docker_client()
    filters = {"label": [f"{MANAGED_LABEL}=1"] + ([f"{RUN_LABEL}={run_id}"] if run_id else [])}
    removed = []
    for container in client.containers.list(all=True, filters=filters):
        _remove_quietly(container)
        removed.append(container.name)
    client.close()
    if removed:
        log.info("containers_removed", count=len(removed), run_id=run_id)
    return removed
