"""The UNSAFE backend: commands run as host subprocesses, with your user's rights and network access.

For machines without Docker, for bench runs of built-in baselines and for quick tests only; Glia asks
for an explicit opt-in before using it (`--unsafe-local-workspace`) and never uses it to evaluate a
design. The environment is scrubbed (no API keys) and time limits kill the command's whole process group,
but nothing stops a command from reading or writing anything you can, or from using the network. Disk
and /tmp sizes are not enforced.

The repository is a private temporary folder (`workdir`), removed at `close()`. Glia itself reads and
writes it only through directory file descriptors that never follow symlinks (`glia.workspace.hostfs`,
`glia.workspace.tree.tree_from_folder`). As in Docker, whatever a command leaves in its process group
is killed when it ends; jobs started with `setsid nohup JOB > log 2>&1 &` leave the group and live on
(they are not killed by `close()` either: there is no container to remove).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import structlog

from glia.workspace import hostfs, registry
from glia.workspace.base import (
    DEFAULT_LIMITS,
    LEDGER_ENV,
    ExecResult,
    Limits,
    Workspace,
    WorkspaceDead,
)
from glia.workspace.commands import (
    KILL_GRACE_S,
    LEFTOVER_GRACE_S,
    killed_note,
    resolve_timeout,
    sandbox_environment,
)
from glia.workspace.output import CommandLogs, OutputCapture
from glia.workspace.tree import DEFAULT_CAPS, DEFAULT_EXCLUDES, Tree, TreeCaps, tree_from_folder

log = structlog.get_logger(__name__)

EXIT_DRAIN_S = 1.0  # after the shell exits, read what a leftover child still prints for at most this long


class LocalWorkspace(Workspace):
    """Host subprocesses, one fresh `bash -c` per command at the repository root."""

    backend = "local"

    def __init__(
        self,
        outputs_dir: Path,
        run_id: str,
        context_id: str,
        limits: Limits = DEFAULT_LIMITS,
        ledger_socket: Path | None = None,
    ) -> None:
        self.outputs_dir = outputs_dir
        self.run_id = run_id
        self.context_id = context_id
        self.limits = limits
        self.ledger_socket = Path(ledger_socket) if ledger_socket is not None else None
        self.workdir = ""  # set by start()
        self._logs = CommandLogs(outputs_dir)
        self._scratch: str | None = None
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def repo(self) -> Path:
        return Path(self.workdir)

    def start(self) -> None:
        if self._scratch is not None:
            return
        log.warning(
            "UNSANDBOXED_WORKSPACE",
            detail="commands run directly on this machine with your user's rights and network access",
            run_id=self.run_id,
            context=self.context_id,
        )
        self._scratch = tempfile.mkdtemp(prefix="glia-local-")
        (Path(self._scratch) / "home").mkdir()
        (Path(self._scratch) / "repo").mkdir()
        self.workdir = str(Path(self._scratch) / "repo")
        registry.register(self)

    def close(self) -> None:
        """Kill running commands' process groups and delete the scratch folder. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            running = list(self._running)
        registry.unregister(self)
        for process in running:
            _kill_group(process, signal.SIGKILL)
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> LocalWorkspace:
        if self._scratch is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_alive(self) -> bool:
        return self._scratch is not None and not self._closed

    def _require_alive(self) -> None:
        if not self.is_alive():
            state = "closed" if self._closed else "never started"
            raise WorkspaceDead(f"Local workspace of context {self.context_id} is {state}")

    # commands

    def exec(
        self, command: str, timeout_s: float | None = None, env: Mapping[str, str] | None = None
    ) -> ExecResult:
        """Run `command`; after the time limit SIGTERM its process group, SIGKILL it after a grace period."""
        limit = resolve_timeout(timeout_s, self.limits)
        self._require_alive()
        assert self._scratch is not None
        output_path = self._logs.next_path()
        environment = sandbox_environment(
            str(Path(self._scratch) / "home"), path=os.environ.get("PATH", "/usr/bin:/bin")
        )
        if self.ledger_socket is not None:
            environment[LEDGER_ENV] = str(self.ledger_socket)
        environment.update(env or {})
        capture = OutputCapture(output_path, self.limits.output_limit_chars, self.limits.output_keep_bytes)
        started = time.monotonic()
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=self.workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
        with self._lock:
            self._running.add(process)
        try:
            exit_code, timed_out = _pump(process, capture, limit)
        finally:
            capture.close()
            _reap_group(process)
            with self._lock:
                self._running.discard(process)
        duration = time.monotonic() - started
        output, truncated = capture.excerpt()
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

    # files

    def write_files(self, tree: Tree, *, replace: bool = False) -> None:
        self._require_alive()
        if replace:
            hostfs.clear_folder(self.repo)
        hostfs.write_tree(self.repo, tree)

    def export_tree(self, excludes: Sequence[str] = DEFAULT_EXCLUDES, caps: TreeCaps = DEFAULT_CAPS) -> Tree:
        self._require_alive()
        return tree_from_folder(self.repo, excludes, caps)

    def read_file(self, relpath: str, max_bytes: int) -> bytes:
        self._require_alive()
        return hostfs.read_file(self.repo, relpath, max_bytes)


def _pump(process: subprocess.Popen[bytes], capture: OutputCapture, limit_s: float) -> tuple[int, bool]:
    """Copy output into `capture` while enforcing the time limit; (exit code, timed out).

    Timeouts report 124, or 137 if SIGKILL was needed. Returns soon after the shell exits even if a
    leftover child keeps the pipe open.
    """
    assert process.stdout is not None
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    started = time.monotonic()
    term_at, kill_at = started + limit_s, started + limit_s + KILL_GRACE_S
    timed_out = killed = False
    exited_at: float | None = None
    open_pipe = True
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if exited_at is None and process.poll() is not None:
                exited_at = now
            if exited_at is not None and (not open_pipe or now - exited_at > EXIT_DRAIN_S):
                break
            if not timed_out and now >= term_at:
                timed_out = True
                _kill_group(process, signal.SIGTERM)
            if timed_out and not killed and now >= kill_at and process.poll() is None:
                killed = True
                _kill_group(process, signal.SIGKILL)
            if not open_pipe:  # the output is closed: wait for the exit itself, or the next deadline
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.05)
                continue
            if selector.select(timeout=0.1):
                with contextlib.suppress(BlockingIOError):
                    chunk = os.read(fd, 1 << 16)
                    if chunk:
                        capture.write(chunk)
                    else:
                        open_pipe = False
    process.stdout.close()
    returncode = process.wait()
    if timed_out:
        _kill_group(process, signal.SIGKILL)  # whatever of the group ignored SIGTERM
        return (137 if killed else 124), True
    return _shell_code(returncode), False


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
