"""The host end of the simulation ledger: a unix-socket server that reads hostile reports.

Every byte on this socket comes from inside a sandbox, so the server trusts nothing: a line is at most
`max_line_bytes` and a connection at most `max_lines` lines, every read has a timeout, at most
`max_connections` connections are served at once (more are answered `{"ok": false}` and closed), every
field is type-checked, and nothing in a message is ever used as a path or read from disk.

The protocol (the simulator side is `sim_repo_template/llmsim/glia_ledger.py`), one JSON object a line:

    -> {"op": "start", "conditions": {...}, "result_dir": str | null, "call": str | null}
    <- {"ok": true, "simulation": N}   or   {"ok": false, "error": "..."}
    -> {"op": "end", "valid": bool, "error": str | null, "summary": {...} | null}

The first line decides whether a simulation is reported at all: a readable JSON object whose `op` is
`"start"` is a simulation (its other fields may be unreadable; that only spoils its claim). Anything
else (a long line, garbage, silence) is refused and costs nothing. A started connection that ends
without a readable `end` is a run that crashed or was killed.

One accept thread serves a socket; each connection gets a handler thread. What a report *means*
(charging the budget, recording the claim) is the `ReportHandler`'s business: `SimulationLedger`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger()

AF_UNIX_PATH_MAX = 107  # sun_path holds 108 bytes, one of them the terminating NUL
SOCKET_NAME = "ledger.sock"
LISTEN_BACKLOG = 128  # connections queued before accept; more wait in the client's retry loop

Scalar = str | int | float | bool | None

MAX_FIELDS = 64  # keys of `conditions` or `summary`
MAX_KEY_CHARS = 64
MAX_TEXT_CHARS = 2000  # an error message, a result folder, a string value


@dataclass(frozen=True)
class ServerLimits:
    """What one connection may cost the host."""

    max_line_bytes: int = 64 * 1024
    max_lines: int = 4
    max_connections: int = 32
    first_line_timeout_s: float = 10.0  # a connection that says nothing is closed after this
    end_timeout_s: float = 6 * 3600.0  # a started run may take this long to send `end`
    send_timeout_s: float = 5.0  # a client that does not read its answer is dropped after this


@dataclass(frozen=True)
class StartReport:
    """A checked `start`: `conditions` is None when unreadable, `problems` says what was wrong."""

    conditions: dict[str, Scalar] | None
    result_dir: str | None
    problems: tuple[str, ...] = ()
    call: str | None = None  # the command the run says it descends from (checked by the handler)


@dataclass(frozen=True)
class EndReport:
    """A checked `end`: `valid` is None and `problems` non-empty when the outcome is unreadable."""

    valid: bool | None
    error: str | None
    summary: dict[str, Scalar] | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """The reply to a `start`: run it as simulation `simulation`, or not, for `error`."""

    ok: bool
    simulation: int | None = None
    error: str | None = None

    def to_line(self) -> bytes:
        data: dict[str, Any] = (
            {"ok": True, "simulation": self.simulation}
            if self.ok
            else {
                "ok": False,
                "error": self.error or "refused",
            }
        )
        return json.dumps(data).encode() + b"\n"


class ReportHandler(Protocol):
    """What the server calls; each method may run on any handler thread."""

    def on_start(self, connection: int, report: StartReport) -> Answer: ...

    def on_end(self, connection: int, report: EndReport) -> None: ...

    def on_lost(self, connection: int, reason: str) -> None: ...


class ProtocolError(ValueError):
    """A line that is not a message this side of the protocol accepts."""


# -- parsing: hostile bytes to checked reports ------------------------------------------------------


def parse_line(line: bytes) -> dict[str, Any]:
    """A JSON object from one line; NaN and infinities are refused like any other garbage."""
    try:
        data = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"not a JSON line ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ProtocolError("not a JSON object")
    return data


def parse_start(data: dict[str, Any]) -> StartReport:
    """A `start` message; raises ProtocolError when the object is not a start at all."""
    if data.get("op") != "start":
        raise ProtocolError("the first message must be a start")
    problems: list[str] = []
    conditions = _scalar_map(data.get("conditions"), "conditions", problems, allow_null=False)
    result_dir = _optional_text(data.get("result_dir"), "result_dir", problems)
    call = _optional_text(data.get("call"), "call", problems)
    return StartReport(conditions, result_dir, tuple(problems), call)


def parse_end(data: dict[str, Any]) -> EndReport:
    """An `end` message; raises ProtocolError when the object is not an end at all."""
    if data.get("op") != "end":
        raise ProtocolError("expected an end")
    problems: list[str] = []
    valid = data.get("valid")
    if not isinstance(valid, bool):
        problems.append("valid is not true or false")
        valid = None
    error = _optional_text(data.get("error"), "error", problems)
    summary = _scalar_map(data.get("summary"), "summary", problems, allow_null=True)
    return EndReport(valid, error, summary, tuple(problems))


def clean_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """A string safe to show in a transcript, notes or a terminal: no control characters, bounded."""
    cleaned = "".join(ch if ch.isprintable() or ch == " " else "?" for ch in value[:limit])
    return cleaned + ("…" if len(value) > limit else "")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def _optional_text(value: object, name: str, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{name} is not a string")
        return None
    return clean_text(value)


def _scalar_map(value: object, name: str, problems: list[str], allow_null: bool) -> dict[str, Scalar] | None:
    """A flat object of bounded scalars, or None (with a problem noted) when it is anything else."""
    if value is None and allow_null:
        return None
    if not isinstance(value, dict):
        problems.append(f"{name} is not an object")
        return None
    if len(value) > MAX_FIELDS:
        problems.append(f"{name} has more than {MAX_FIELDS} fields")
        return None
    checked: dict[str, Scalar] = {}
    for key, item in value.items():
        if len(key) > MAX_KEY_CHARS or not key.isprintable():
            problems.append(f"{name} has an unreadable key")
            return None
        if isinstance(item, str):
            if len(item) > MAX_TEXT_CHARS:
                problems.append(f"{name}.{key} is too long")
                return None
            checked[key] = clean_text(item)
        elif (
            item is None or isinstance(item, bool | int) or (isinstance(item, float) and math.isfinite(item))
        ):
            checked[key] = item
        else:
            problems.append(f"{name}.{key} is not a string, number, boolean or null")
            return None
    return checked


# -- the server ----------------------------------------------------------------------------------------


@dataclass
class _Conversation:
    """How far one connection got."""

    started: bool = False
    ended: bool = False
    unreadable_end: bool = False


class LineTooLong(ProtocolError):
    """More than the line limit without a newline."""


class _LineReader:
    """Newline-delimited reads from a socket with a bounded buffer."""

    def __init__(self, sock: socket.socket, max_line_bytes: int) -> None:
        self._sock = sock
        self._max = max_line_bytes
        self._buffer = b""

    def readline(self) -> bytes | None:
        """The next line without its newline; None at end of stream (a partial line is dropped)."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > self._max:
                raise LineTooLong(f"a line longer than {self._max} bytes")
            chunk = self._sock.recv(min(65536, self._max + 1))
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        if len(line) > self._max:
            raise LineTooLong(f"a line longer than {self._max} bytes")
        return line


class LedgerServer:
    """Serves one context's ledger socket until `close()`.

    The socket lives in a fresh private folder under a short temporary directory (AF_UNIX paths are
    limited to 107 bytes); the folder is mode 0700 so no other host user can reach it, the socket is
    0666 so the sandbox's user can connect through the bind mount.
    """

    def __init__(
        self, handler: ReportHandler, limits: ServerLimits | None = None, socket_dir: Path | None = None
    ) -> None:
        self.handler = handler
        self.limits = limits or ServerLimits()
        self._parent = socket_dir
        self._dir: Path | None = None
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)
        self._lock = threading.Lock()
        self._open: dict[int, socket.socket] = {}
        self._threads: set[threading.Thread] = set()
        self._next_id = 0
        self._closing = threading.Event()
        self.refused_busy = 0  # connections turned away because all slots were taken

    @property
    def path(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the ledger server is not started")
        return self._dir / SOCKET_NAME

    def start(self) -> Path:
        """Create the socket and start accepting; returns the socket's host path."""
        if self._listener is not None:
            return self.path
        self._dir = Path(tempfile.mkdtemp(prefix="glia-", dir=self._parent or _short_tmp()))
        path = self._dir / SOCKET_NAME
        if len(os.fsencode(path)) > AF_UNIX_PATH_MAX:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise OSError(
                f"ledger socket path {path} is longer than {AF_UNIX_PATH_MAX} bytes; use a shorter TMPDIR"
            )
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o666)
        listener.listen(LISTEN_BACKLOG)
        listener.settimeout(0.2)  # the accept loop polls so that close() stops it promptly
        self._listener = listener
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="glia-ledger-accept", daemon=True
        )
        self._accept_thread.start()
        return path

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop accepting, hang up on every connection (their handlers record lost runs), clean up."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout_s)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            connections = list(self._open.values())
            threads = list(self._threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout_s)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LedgerServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closing.is_set():
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: do not spin
                continue
            if not self._slots.acquire(blocking=False):
                self.refused_busy += 1
                self._refuse(conn, "too many open connections to the ledger")
                continue
            with self._lock:
                self._next_id += 1
                connection = self._next_id
                self._open[connection] = conn
                thread = threading.Thread(
                    target=self._serve, args=(connection, conn), name=f"glia-ledger-{connection}", daemon=True
                )
                self._threads.add(thread)
            try:
                thread.start()
            except RuntimeError:  # no thread to be had: turn the connection away
                with self._lock:
                    self._open.pop(connection, None)
                    self._threads.discard(thread)
                self._slots.release()
                self._refuse(conn, "the ledger is overloaded")

    def _refuse(self, conn: socket.socket, why: str) -> None:
        try:
            conn.settimeout(0.5)
            conn.sendall(Answer(False, error=why).to_line())
        except OSError:
            pass
        finally:
            conn.close()

    def _serve(self, connection: int, conn: socket.socket) -> None:
        state = _Conversation()
        lost_reason = "the run ended without reporting its end (crashed or killed)"
        try:
            self._converse(connection, conn, state)
        except (OSError, ProtocolError) as exc:
            lost_reason = f"the connection broke ({type(exc).__name__})"
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the server
            log.exception("ledger.handler_failed", connection=connection)
            lost_reason = f"the ledger failed while serving it ({type(exc).__name__})"
        finally:
            if state.started and not state.ended:
                if self._closing.is_set():
                    lost_reason = "the context ended while the run was in progress"
                elif state.unreadable_end:
                    lost_reason = "the run sent no readable end"
                try:
                    self.handler.on_lost(connection, lost_reason)
                except Exception:  # noqa: BLE001
                    log.exception("ledger.on_lost_failed", connection=connection)
            conn.close()
            with self._lock:
                self._open.pop(connection, None)
                self._threads.discard(threading.current_thread())
            self._slots.release()

    def _converse(self, connection: int, conn: socket.socket, state: _Conversation) -> None:
        """Serve one connection, recording in `state` whether a run started and ended."""
        limits = self.limits
        reader = _LineReader(conn, limits.max_line_bytes)
        conn.settimeout(limits.first_line_timeout_s)
        try:
            line = reader.readline()
        except TimeoutError:
            return
        except LineTooLong:
            self._send(conn, Answer(False, error=f"a line is limited to {limits.max_line_bytes} bytes"))
            return
        if line is None:
            return
        try:
            report = parse_start(parse_line(line))
        except ProtocolError as exc:
            self._send(conn, Answer(False, error=str(exc)))
            return
        answer = self.handler.on_start(connection, report)
        state.started = answer.ok
        self._send(conn, answer)  # a client that never reads this is its own problem: the run counted
        if not answer.ok:
            return
        conn.settimeout(limits.end_timeout_s)
        for _ in range(limits.max_lines - 1):
            try:
                line = reader.readline()
            except (TimeoutError, LineTooLong):
                state.unreadable_end = True
                return
            if line is None:
                return
            try:
                end = parse_end(parse_line(line))
            except ProtocolError:
                state.unreadable_end = True
                continue  # not an end: ignored, within the line allowance
            state.ended = True
            self.handler.on_end(connection, end)
            return

    def _send(self, conn: socket.socket, answer: Answer) -> None:
        conn.settimeout(self.limits.send_timeout_s)
        with contextlib.suppress(OSError):
            conn.sendall(answer.to_line())


def _short_tmp() -> str:
    """A temporary directory short enough for AF_UNIX paths (macOS's TMPDIR is not)."""
    return "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
