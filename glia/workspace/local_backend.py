"""The UNSANDBOXED backend: commands run as host subprocesses in the repository folder.

For machines without Docker and for quick tests only. The environment is scrubbed (no API keys) and time
limits kill the command's whole process group, but nothing stops a command from reading or writing
anything the user can, or from using the network. As in Docker, whatever the command leaves in its
process group is killed when it ends; jobs started with `setsid nohup JOB > log 2>&1 &` leave the group
and live on (they are not killed by `close()` either: there is no container to remove).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import structlog

from glia.workspace import registry
from glia.workspace.base import DEFAULT_LIMITS, ExecResult, Limits, Workspace, WorkspaceDead
from glia.workspace.commands import (
    KILL_GRACE_S,
    LEFTOVER_GRACE_S,
    killed_note,
    resolve_timeout,
    sandbox_environment,
)
from glia.workspace.output import CommandLogs, excerpt_of_file

log = structlog.get_logger(__name__)


class LocalWorkspace(Workspace):
    """Host subprocesses, one fresh `bash -c` per command at the repository root."""

    backend = "local"

    def __init__(
        self,
        repo_path: Path,
        outputs_dir: Path,
        run_id: str,
        context_id: str,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.repo_path = repo_path
        self.outputs_dir = outputs_dir
        self.run_id = run_id
        self.context_id = context_id
        self.limits = limits
        self._logs = CommandLogs(outputs_dir)
        self._home: str | None = None
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        log.warning(
            "UNSANDBOXED_WORKSPACE",
            detail="commands run directly on this machine with your user's rights and network access",
            run_id=self.run_id,
            context=self.context_id,
            repo=str(self.repo_path),
        )
        self._home = tempfile.mkdtemp(prefix="glia-home-")
        registry.register(self)

    def close(self) -> None:
        """Kill running commands' process groups and drop the scratch HOME. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running)
        registry.unregister(self)
        for process in running:
            _kill_group(process, signal.SIGKILL)
        if self._home:
            shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> LocalWorkspace:
        if self._home is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self) -> bool:
        return self._home is not None and not self._closed

    def exec(self, command: str, timeout_s: float | None = None) -> ExecResult:
        """Run `command`; after the time limit SIGTERM its process group, SIGKILL it after a grace period."""
        limit = resolve_timeout(timeout_s, self.limits)
        if not self.is_alive():
            state = "closed" if self._closed else "never started"
            raise WorkspaceDead(f"Local workspace of context {self.context_id} is {state}")
        output_path = self._logs.next_path()
        environment = sandbox_environment(self._home, path=os.environ.get("PATH", "/usr/bin:/bin"))
        started = time.monotonic()
        with output_path.open("wb") as sink:
            process = subprocess.Popen(
                ["bash", "-c", command],
                cwd=self.repo_path,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        with self._lock:
            self._running.add(process)
        try:
            exit_code, timed_out = _wait_or_kill(process, limit)
        finally:
            _reap_group(process)
            with self._lock:
                self._running.discard(process)
        duration = time.monotonic() - started
        output, truncated, total = excerpt_of_file(output_path, self.limits.output_limit_chars)
        return ExecResult(
            command=command,
            exit_code=exit_code,
            timed_out=timed_out,
            duration_s=duration,
            output=output + killed_note(exit_code, timed_out, self.limits),
            output_path=output_path,
            truncated=truncated,
            output_bytes=total,
        )


def _wait_or_kill(process: subprocess.Popen[bytes], limit_s: float) -> tuple[int, bool]:
    """(exit code in shell convention, timed out). Timeouts report 124, or 137 if SIGKILL was needed."""
    try:
        return _shell_code(process.wait(timeout=limit_s)), False
    except subprocess.TimeoutExpired:
        pass
    _kill_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=KILL_GRACE_S)
        code = 124
    except subprocess.TimeoutExpired:
        code = 137
    _kill_group(process, signal.SIGKILL)  # whatever of the group ignored SIGTERM
    process.wait()
    return code, True


def _shell_code(returncode: int) -> int:
    """subprocess says -N for "killed by signal N"; shells say 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _reap_group(process: subprocess.Popen[bytes]) -> None:
    """Kill what the command left in its process group (after a grace for `setsid` jobs to leave it)."""
    try:
        os.killpg(process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return
    time.sleep(LEFTOVER_GRACE_S)
    for _ in range(1000):  # repeat: a fork bomb keeps refilling the group
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
