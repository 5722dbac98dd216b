"""One writer per run: an advisory lock on `run.lock` in the run folder that dies with its holder.

The lock is `fcntl.flock` on an open file: the kernel releases it when the holding process exits, however
it exits (kill -9 included), so a stale lock cannot outlive a dead run. The file holds the holder's pid,
host, start time and command, so a refused writer can say who holds it. Readers (`glia runs`, the live
table) probe the lock without keeping it to tell a live run from one whose process is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glia.record.run import now_iso

LOCK_FILE = "run.lock"


class RunLocked(RuntimeError):
    """Another process is writing this run; the message names it."""

    def __init__(self, run_dir: Path, holder: dict[str, Any] | None) -> None:
        self.run_dir = Path(run_dir)
        self.holder = holder or {}
        super().__init__(describe_holder(self.run_dir.name, self.holder))


def describe_holder(run_id: str, holder: dict[str, Any]) -> str:
    pid, host = holder.get("pid", "?"), holder.get("host", "?")
    since = f" since {holder['started']}" if holder.get("started") else ""
    command = f" ({holder['command']})" if holder.get("command") else ""
    return f"run {run_id} is in use by process {pid} on {host}{since}{command}"


@dataclass(frozen=True)
class LockState:
    """What a probe found: whether a live process holds the run, and who (as it wrote itself down)."""

    held: bool
    holder: dict[str, Any] | None


class RunLock:
    """`with RunLock(run_dir, command="glia resume"):` holds the run for this process or raises RunLocked."""

    def __init__(self, run_dir: Path, command: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.command = command or _command_line()
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunLocked(self.run_dir, holder) from None
        except BaseException:
            os.close(fd)
            raise
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": now_iso(),
            "command": self.command,
        }
        data = (json.dumps(holder) + "\n").encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the run back; the holder note is cleared so a reader never names a gone process."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def probe_lock(run_dir: Path) -> LockState:
    """Whether a live process holds the run (tried without keeping it; a missing file is free)."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return LockState(False, None)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return LockState(True, _read_holder(fd))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return LockState(False, None)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def _command_line() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    args = " ".join(sys.argv[1:3])
    return f"{name} {args}".strip()
