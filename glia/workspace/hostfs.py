"""File operations on a host folder that commands also write (the local backend's repository).

Everything goes through directory file descriptors with O_NOFOLLOW, so a symlink or special file that a
command planted is never followed: writing replaces what is in the way, reading refuses anything but a
regular file reached through real folders, and a FIFO cannot block a read (O_NONBLOCK + fstat first).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from glia.workspace.base import WorkspaceFileError
from glia.workspace.tree import Tree, TreeEntry, path_problem, read_regular

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
KEEP_ON_CLEAR = ".git"


@contextlib.contextmanager
def _root(root: Path) -> Iterator[int]:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        os.close(fd)


def clear_folder(root: Path) -> None:
    """Delete everything in `root` except its top-level `.git` (symlinks removed, never followed)."""
    with _root(root) as fd:
        for name in os.listdir(fd):
            if name != KEEP_ON_CLEAR:
                _remove(fd, name)


def _remove(dir_fd: int, name: str) -> None:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)  # the fd-based, symlink-safe rmtree
    else:
        os.unlink(name, dir_fd=dir_fd)


def _enter_parents(root_fd: int, parts: list[str], create: bool) -> int:
    """An fd of the folder holding the last part; with `create`, anything in the way becomes a folder."""
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                if not create or err.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                _remove(fd, part)  # a symlink or file where a folder belongs
                os.mkdir(part, 0o755, dir_fd=fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def write_tree(root: Path, tree: Tree) -> None:
    """Write every entry of `tree` under `root`, replacing whatever is at each path."""
    root.mkdir(parents=True, exist_ok=True)
    with _root(root) as root_fd:
        for path, entry in tree.items():
            parts = path.split("/")
            fd = _enter_parents(root_fd, parts, create=True)
            try:
                with contextlib.suppress(FileNotFoundError):
                    _remove(fd, parts[-1])
                _write_entry(fd, parts[-1], entry)
            finally:
                os.close(fd)


def _write_entry(dir_fd: int, name: str, entry: TreeEntry) -> None:
    if entry.is_symlink:
        os.symlink(entry.data.decode("utf-8", errors="surrogateescape"), name, dir_fd=dir_fd)
        return
    mode = 0o755 if entry.is_executable else 0o644
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
    try:
        view = memoryview(entry.data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def read_file(root: Path, relpath: str, max_bytes: int) -> bytes:
    """One regular file under `root`, reached through real folders only, at most `max_bytes`."""
    problem = path_problem(relpath)
    if problem:
        raise WorkspaceFileError(f"{relpath!r}: {problem}")
    parts = relpath.split("/")
    try:
        with _root(root) as root_fd:
            fd = _enter_parents(root_fd, parts, create=False)
            try:
                entry = read_regular(fd, parts[-1], max_bytes)
            finally:
                os.close(fd)
    except FileNotFoundError:
        raise WorkspaceFileError(f"{relpath}: no such file") from None
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EINVAL):
            raise WorkspaceFileError(f"{relpath}: not a regular file (or behind a symlink)") from None
        raise WorkspaceFileError(f"{relpath}: {err.strerror or err}") from None
    if entry is None:
        raise WorkspaceFileError(f"{relpath}: bigger than {max_bytes} bytes")
    return entry.data
