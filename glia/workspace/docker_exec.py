"""One `docker exec` over its raw socket: bytes in on stdin, demultiplexed stdout/stderr frames out.

The Docker SDK has no per-exec timeout and no way to stream stdin and stdout at once, so this speaks
the attach protocol directly: the request is upgraded to a raw stream, stdin is written (by a helper
thread, then half-closed so the command sees end of file) while frames are read here, each with a
8-byte header (stream id, length). Reading is bounded by a deadline; `select` keeps the socket itself
blocking so the writer thread is never cut short by a read timeout.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import docker
import docker.errors
import requests

FRAME_HEADER = struct.Struct(">BxxxL")  # stream id, 3 pad bytes, payload length
STDOUT, STDERR = 1, 2
POLL_S = 0.5  # how often a silent command is checked on
EXIT_DRAIN_S = 1.0  # after the process has exited: read what is still in flight for at most this long
RECV_BYTES = 1 << 16

EXEC_ERRORS = (docker.errors.DockerException, requests.RequestException, OSError)


class ExecTimeout(Exception):
    """The deadline passed before the exec's output ended."""


class ExecStream:
    """A started exec. Iterate `frames()` to read; `exit_code()` afterwards; always `close()`."""

    def __init__(
        self,
        api: docker.APIClient,
        container_id: str,
        argv: Sequence[str],
        *,
        user: str,
        workdir: str,
        environment: Mapping[str, str],
        stdin: bool = False,
    ) -> None:
        self.api = api
        self.exec_id: str = api.exec_create(
            container_id,
            cmd=list(argv),
            stdin=stdin,
            stdout=True,
            stderr=True,
            environment=dict(environment),
            workdir=workdir,
            user=user,
        )["Id"]
        self._response: Any = api.exec_start(self.exec_id, socket=True)
        self.sock: socket.socket = getattr(self._response, "_sock", self._response)
        self.sock.settimeout(None)
        self._writer: threading.Thread | None = None
        self.write_error: BaseException | None = None
        self._closed = False

    # -- stdin

    def send(self, chunks: Iterable[bytes]) -> None:
        """Write `chunks` to the command's stdin from a helper thread, then signal end of file."""

        def write() -> None:
            try:
                for chunk in chunks:
                    self.sock.sendall(chunk)
                self.sock.shutdown(socket.SHUT_WR)
            except OSError as err:  # the command died or the deadline closed the socket
                self.write_error = err

        self._writer = threading.Thread(target=write, name="glia-exec-stdin", daemon=True)
        self._writer.start()

    # -- output

    def frames(self, deadline: float, watch_exit: bool = True) -> Iterator[tuple[int, bytes]]:
        """(stream id, payload) until the output ends; raises ExecTimeout at the deadline.

        With `watch_exit`, also ends shortly after the process exits even if a background child still
        holds the stream open (what it prints later is not waited for).
        """
        pending = bytearray()
        next_check = time.monotonic() + POLL_S
        drain_until: float | None = None
        while True:
            now = time.monotonic()
            if now > deadline:
                raise ExecTimeout()
            if drain_until is not None and now > drain_until:
                return
            if watch_exit and drain_until is None and now >= next_check:
                next_check = now + POLL_S
                if not self.running():
                    drain_until = now + EXIT_DRAIN_S
            wait = min(POLL_S, max(deadline - now, 0.0))
            if drain_until is not None:
                wait = min(wait, 0.1)
            if not self._readable(wait):
                if drain_until is not None:
                    return
                continue
            data = self.sock.recv(RECV_BYTES)
            if not data:
                yield from _complete_frames(pending)
                return
            pending += data
            yield from _complete_frames(pending)

    def _readable(self, wait_s: float) -> bool:
        pending = getattr(self.sock, "pending", None)
        if pending is not None and pending():
            return True
        readable, _, _ = select.select([self.sock], [], [], wait_s)
        return bool(readable)

    def running(self) -> bool:
        return bool(self.api.exec_inspect(self.exec_id)["Running"])

    def exit_code(self) -> int | None:
        return self.api.exec_inspect(self.exec_id)["ExitCode"]

    def wait_exit_code(self, timeout_s: float = 5.0) -> int | None:
        """The exit code once the process has ended (None if it is still running after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        pause = 0.02
        while True:
            state = self.api.exec_inspect(self.exec_id)
            if not state["Running"]:
                return state["ExitCode"]
            if time.monotonic() > deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 2, POLL_S)

    def close(self) -> None:
        """Shut the stream both ways (which wakes a blocked writer) and release it."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._response.close()
        with contextlib.suppress(OSError):
            self.sock.close()
        if self._writer is not None:
            self._writer.join(timeout=5)


def _complete_frames(pending: bytearray) -> Iterator[tuple[int, bytes]]:
    """Take every complete frame off the front of `pending`."""
    while len(pending) >= FRAME_HEADER.size:
        stream_id, size = FRAME_HEADER.unpack_from(pending)
        end = FRAME_HEADER.size + size
        if len(pending) < end:
            return
        payload = bytes(pending[FRAME_HEADER.size : end])
        del pending[:end]
        yield stream_id, payload


class BoundedText:
    """Keeps at most `limit` bytes of a side channel (stderr); counts the rest."""

    def __init__(self, limit: int = 256 * 1024) -> None:
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")
