"""Commands in a Docker workspace: the Researcher's (timed, captured, logged) and Glia's own (strict).

Time limits are enforced inside the container (`timeout -k`, which kills the command's whole process
group); the host gives up a little later as a backstop, because killing `docker exec` on the host would
not stop anything inside. When a command ends (or times out), whatever is left of its process group is
killed. A job meant to outlive the command must leave the group: `setsid nohup JOB > log 2>&1 &`; the
command returns when the shell exits. Redirect such a job's output: what it prints later is otherwise lost.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from glia.workspace.base import ExecResult, WorkspaceFileError
from glia.workspace.commands import (
    BACKSTOP_S,
    KILL_GRACE_S,
    killed_note,
    looks_timed_out,
    resolve_timeout,
    timeout_argv,
)
from glia.workspace.containers import REPO_DIR
from glia.workspace.docker_container import DockerContainer
from glia.workspace.docker_exec import BoundedText, ExecTimeout
from glia.workspace.output import CommandLogs, OutputCapture

INTERNAL_TIMEOUT_S = 120.0  # writing a tree, clearing the repository


def run_command(
    container: DockerContainer,
    logs: CommandLogs,
    command: str,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
) -> ExecResult:
    """Run `command` in a fresh `bash -c` at the repository root, killed after the time limit; its whole
    output goes to the next log of `logs`, the model gets an excerpt."""
    limits = container.limits
    limit = resolve_timeout(timeout_s, limits)
    output_path = logs.next_path()
    capture = OutputCapture(output_path, limits.output_limit_chars, limits.output_keep_bytes)
    started = time.monotonic()
    finished = True
    exit_code: int | None = None
    try:
        with container.exec_stream(
            timeout_argv(command, limit), f"exec in {container.name} failed", env=env
        ) as stream:
            deadline = started + limit + KILL_GRACE_S + BACKSTOP_S
            try:
                for _stream_id, payload in stream.frames(deadline):
                    capture.write(payload)
            except ExecTimeout:
                finished = False
            if finished:  # the output ended; a command that closed it early may still be running
                exit_code = stream.wait_exit_code(timeout_s=max(deadline - time.monotonic(), 0.0) + 1.0)
                finished = exit_code is not None
    finally:
        capture.close()
    duration = time.monotonic() - started
    if exit_code is None or exit_code == 137:
        container.require_alive_after_kill()
    output, truncated = capture.excerpt()
    timed_out = not finished or looks_timed_out(exit_code, duration, limit)
    return ExecResult(
        command=command,
        exit_code=exit_code,
        timed_out=timed_out,
        duration_s=duration,
        output=output + killed_note(exit_code, timed_out, limits),
        output_path=output_path,
        truncated=truncated,
        output_bytes=capture.total_bytes,
    )


def run_internal(
    container: DockerContainer,
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
    failed = f"could not {what} in {container.name}"
    try:
        with container.exec_stream(argv, failed, stdin=stdin_data is not None, workdir=workdir) as stream:
            if stdin_data is not None:
                stream.send([stdin_data])
            for _stream_id, payload in stream.frames(time.monotonic() + timeout_s + 5):
                output.add(payload)
            code = stream.wait_exit_code()
    except ExecTimeout as err:
        raise WorkspaceFileError(f"could not {what} within {timeout_s:g} s") from err
    if code != 0:
        container.require_alive()
        detail = output.text().strip()[-1000:] or f"exit code {code}"
        raise WorkspaceFileError(f"could not {what}: {detail}")
    return output.text()


def make_repository_folder(container: DockerContainer) -> None:
    """After a start or a restart: the repository's tmpfs is empty, the folder must be made again."""
    run_internal(container, ["mkdir", "-p", REPO_DIR], what="make the repository folder", workdir="/")
