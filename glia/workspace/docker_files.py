"""Files in and out of a Docker workspace, only ever as data (no host folder is mounted).

`write_files` pipes a host-made tar into `tar -x` inside; `export_tree` streams `tar -c` out and parses
it on the host as hostile input (`glia/workspace/tree.py`); `read_file` reads one capped regular file,
never through a symlink. A full repository gives an ordinary "No space left on device"; the container
lives on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from glia.workspace.base import WorkspaceFileError
from glia.workspace.containers import REPO_DIR
from glia.workspace.docker_commands import run_internal
from glia.workspace.docker_container import DockerContainer
from glia.workspace.docker_exec import STDERR, STDOUT, BoundedText, ExecTimeout
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
from glia.workspace.tree import Tree, TreeCaps, path_problem, tree_from_tar_stream, tree_to_tar

READ_TIMEOUT_S = 30.0


def write_files(container: DockerContainer, tree: Tree, *, replace: bool = False) -> None:
    """Pipe a tar of `tree` into `tar -x` inside; with `replace`, empty the repository first (not .git)."""
    if replace:
        run_internal(
            container,
            ["bash", "-c", CLEAR_SCRIPT, "glia-clear", REPO_DIR],
            what="clear the repository",
            workdir="/",
        )
    if len(tree) == 0:
        return
    run_internal(
        container,
        ["bash", "-c", EXTRACT_SCRIPT, "glia-extract", REPO_DIR],
        what=f"write {len(tree)} files",
        stdin_data=tree_to_tar(tree),
        workdir="/",
    )


def export_tree(container: DockerContainer, excludes: Sequence[str], caps: TreeCaps) -> Tree:
    """The repository as a Tree: `tar -c` inside, parsed on the host as hostile data, within `caps`."""
    argv = export_arguments(REPO_DIR, caps.max_file_bytes, caps.max_depth, caps.max_path_bytes, excludes)
    argv = ["timeout", "-k", "2", f"{caps.timeout_s:g}", *argv]
    errors = BoundedText(256 * 1024)
    with container.exec_stream(
        argv, f"could not export the repository of {container.name}", workdir="/"
    ) as stream:
        frames = stream.frames(time.monotonic() + caps.timeout_s + 2)
        late: list[str] = []

        def stdout_chunks() -> Iterator[bytes]:
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
            container.require_alive()
    return tree.with_skipped(_stderr_notes(errors, caps.max_skipped_listed))


def read_file(container: DockerContainer, relpath: str, max_bytes: int) -> bytes:
    """One regular file of the repository, at most `max_bytes`; never follows a symlink."""
    problem = path_problem(relpath)
    if problem:
        raise WorkspaceFileError(f"{relpath!r}: {problem}")
    argv = ["timeout", "-k", "1", f"{READ_TIMEOUT_S:g}", "python3", "-I", "-S", "-c", READ_SCRIPT]
    argv += [REPO_DIR, relpath, str(max_bytes)]
    data = bytearray()
    try:
        with container.exec_stream(
            argv, f"could not read {relpath} in {container.name}", workdir="/"
        ) as stream:
            for stream_id, payload in stream.frames(time.monotonic() + READ_TIMEOUT_S + 3):
                if stream_id == STDOUT:
                    data += payload[: max_bytes + 1 - len(data)]
                    if len(data) > max_bytes:
                        break
            code = stream.wait_exit_code(timeout_s=2.0) if len(data) <= max_bytes else READ_TOO_BIG
    except ExecTimeout as err:
        raise WorkspaceFileError(f"{relpath}: reading took longer than {READ_TIMEOUT_S:g} s") from err
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
