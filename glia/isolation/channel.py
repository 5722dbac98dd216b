"""A framed, symmetric call channel over a stream socket.

Each frame is a 4-byte big-endian length and a JSON payload (see `codec`). A payload is one of
    [0, id, name, args]       a call
    [1, id, value]            its result
    [2, id, kind, message]    its failure (the handler raised)
Either end may call the other. While an end waits for the answer to its own call it serves the calls
that arrive meanwhile, so a design can ask the core for state in the middle of a decision.

Everything received is hostile: frames are capped, payloads must have exactly these shapes, an answer
to a call that is not pending is a protocol error, and every wait has a deadline when the caller gives
one. Any breach raises ChannelError and the channel is unusable afterwards.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from .codec import CodecError, decode, encode

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 32 * 2**20
CALL, RESULT, FAILURE = 0, 1, 2
SHAPES = {CALL: 4, RESULT: 3, FAILURE: 4}  # message kind -> its length

Handler = Callable[..., Any]


class ChannelError(Exception):
    """The peer hung up, broke the protocol or did not answer in time."""


class RemoteError(Exception):
    """The peer's handler raised; `kind` is the exception type's name there."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Channel:
    """One end of a connection. Not thread-safe: one conversation at a time."""

    def __init__(
        self,
        sock: socket.socket,
        handlers: dict[str, Handler] | None = None,
        max_frame_bytes: int = MAX_FRAME_BYTES,
        send_timeout_s: float = 60.0,
    ) -> None:
        self.sock = sock
        self.send_timeout_s = send_timeout_s  # a peer that stops reading cannot block us for longer
        self.handlers = dict(handlers or {})
        self.max_frame_bytes = max_frame_bytes
        self._ids = itertools.count(1)
        self._buffer = bytearray()
        self._closed = False
        # The socket stays blocking: a wait with a deadline is one poll() before the recv(), and a send
        # is one non-blocking send(); Python's own timeouts would add a poll() to every send and, as
        # the timeout changed between sends and waits, two ioctl() calls per message.
        sock.setblocking(True)
        self._poller = select.poll()
        self._poller.register(sock.fileno(), select.POLLIN)
        self.frames_in = 0
        self.frames_out = 0

    # -- public -------------------------------------------------------------------------------------

    def call(self, name: str, *args: Any, timeout_s: float | None = None) -> Any:
        """Call `name` on the peer and return its result; serve the peer's calls while waiting."""
        call_id = next(self._ids)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self._send([CALL, call_id, name, list(args)])
        while True:
            message = self._receive(deadline, waiting_for=name)
            kind = message[0]
            if kind == CALL:
                self._answer(message)
                continue
            if message[1] != call_id:
                raise self._broken(f"an answer to call {message[1]!r}, which is not pending")
            if kind == RESULT:
                return message[2]
            raise RemoteError(str(message[2]), str(message[3]))

    def serve(self, idle_timeout_s: float | None = None) -> None:
        """Answer the peer's calls until it closes the connection (then return normally)."""
        while self.serve_one(idle_timeout_s):
            pass

    def serve_one(self, idle_timeout_s: float | None = None) -> bool:
        """Answer the peer's next call; False when the peer has closed the connection instead."""
        deadline = None if idle_timeout_s is None else time.monotonic() + idle_timeout_s
        try:
            message = self._receive(deadline, waiting_for=None)
        except _PeerClosed:
            return False
        if message[0] != CALL:
            raise self._broken("an answer while no call was pending")
        self._answer(message)
        return True

    @property
    def buffered(self) -> bool:
        """Bytes already read from the socket wait here (a select() on the socket would miss them)."""
        return bool(self._buffer)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------

    def _answer(self, message: list[Any]) -> None:
        _, call_id, name, args = message
        handler = self.handlers.get(name)
        if handler is None:
            self._send([FAILURE, call_id, "UnknownCall", f"no handler named {name!r}"])
            return
        try:
            result = handler(*args)
        except ChannelError:
            raise
        except BaseException as exc:  # the handler's failure is reported to the caller, never hidden
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._send([FAILURE, call_id, type(exc).__name__, str(exc)[:2000]])
            if not isinstance(exc, Exception):  # SystemExit and friends: report, then end
                raise
            return
        self._send([RESULT, call_id, result])

    def _send(self, message: list[Any]) -> None:
        if self._closed:
            raise ChannelError("the channel is closed")
        try:
            payload = encode(message)
        except CodecError as exc:
            raise ChannelError(str(exc)) from None
        if len(payload) > self.max_frame_bytes:
            raise ChannelError(f"a message of {len(payload)} bytes is over the {self.max_frame_bytes} limit")
        try:
            self._send_all(HEADER.pack(len(payload)) + payload)
        except OSError as exc:
            self.close()
            raise ChannelError(f"the peer is gone ({exc.__class__.__name__}: {exc})") from None
        self.frames_out += 1

    def _send_all(self, data: bytes) -> None:
        """`data` written with non-blocking sends (one, for any message the socket buffer holds); while
        the buffer is full, wait for room, up to `send_timeout_s` in all."""
        try:
            sent = self.sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return
        view = memoryview(data)[sent:]
        deadline = time.monotonic() + self.send_timeout_s
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLOUT)
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(max(1, int(left * 1000))):
                self.close()
                raise ChannelError("the peer stopped reading (send timed out)")
            try:
                sent = self.sock.send(view, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            view = view[sent:]

    def _receive(self, deadline: float | None, waiting_for: str | None) -> list[Any]:
        """The next message: from what is buffered if a whole frame is there, else after reading more.
        One recv per message in the usual case (a frame's header and payload arrive together)."""
        buffer = self._buffer
        while True:
            if len(buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(buffer)
                if size > self.max_frame_bytes:
                    raise self._broken(f"a frame of {size} bytes (limit {self.max_frame_bytes})")
                end = HEADER.size + size
                if len(buffer) >= end:
                    payload = buffer[HEADER.size : end]
                    if len(buffer) == end:  # the usual case: the buffer held exactly this frame
                        buffer.clear()
                    else:
                        del buffer[:end]
                    break
                wanted = end - len(buffer)
            else:
                wanted = HEADER.size - len(buffer)
            self._read_more(wanted, deadline, waiting_for)
        try:
            message = decode(payload)
        except CodecError as exc:
            raise self._broken(str(exc)) from None
        self.frames_in += 1
        return self._checked(message)

    def _checked(self, message: Any) -> list[Any]:
        if not isinstance(message, list) or not message or message[0] not in SHAPES:
            raise self._broken("a payload that is not a call, a result or a failure")
        kind = message[0]
        if len(message) != SHAPES[kind] or not isinstance(message[1], int) or isinstance(message[1], bool):
            raise self._broken("a malformed message")
        if kind == CALL and not (isinstance(message[2], str) and isinstance(message[3], list)):
            raise self._broken("a malformed call")
        return message

    def _read_more(self, wanted: int, deadline: float | None, waiting_for: str | None) -> None:
        """Append at least one byte (up to what is waiting) to the buffer, within the deadline. A
        TimeoutError out of here was raised by a signal handler of the caller (its own limit)."""
        if deadline is not None:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._timed_out(waiting_for)
                if self._poller.poll(max(1, int(left * 1000 + 1))):
                    break
        try:
            chunk = self.sock.recv(max(65536, wanted))
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                raise
            self.close()
            raise ChannelError(f"the connection failed ({exc.__class__.__name__}: {exc})") from None
        if not chunk:
            self.close()
            if not self._buffer and waiting_for is None:
                raise _PeerClosed()
            what = f" while waiting for the answer to {waiting_for}()" if waiting_for else ""
            raise ChannelError(f"the peer closed the connection{what}")
        self._buffer += chunk

    def _timed_out(self, waiting_for: str | None) -> ChannelError:
        self.close()
        what = f"answer to {waiting_for}()" if waiting_for else "call"
        return ChannelError(f"no {what} came within the time limit")

    def _broken(self, what: str) -> ChannelError:
        self.close()
        return ChannelError(f"protocol violation by the peer: {what}")


class _PeerClosed(ChannelError):
    """The peer closed between frames while we were only serving: a normal end."""


def listen(path: str, backlog: int = 1) -> socket.socket:
    """A listening unix socket at `path` (replacing a stale socket file of ours)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o666)
    server.listen(backlog)
    return server


def connect(path: str, timeout_s: float, handlers: dict[str, Handler] | None = None) -> Channel:
    """Connect to the unix socket at `path`, retrying until it appears or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last_error: OSError | None = None
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return Channel(sock, handlers)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            last_error = exc
            sock.close()
            time.sleep(0.02)
    raise ChannelError(f"nothing answered at {path} within {timeout_s:g} s ({last_error})")
