"""The ledger across machines: a unix socket on the node, a pump on the driver, bytes in between.

The simulator in a remote sandbox reports each run to $GLIA_LEDGER as it does locally. On the node that
socket belongs to a `NodeRelay`, which understands nothing: it queues each connection's bytes for the
driver and writes back what the driver sends. On the driver a `DriverPump` takes those bytes over Ray
and plays each remote connection into the context's own ledger socket, so the one `SimulationLedger`
parses every hostile byte, charges the budget and answers `start` exactly as for a local sandbox. The
simulator only hears "go" after the driver charged the run: one budget, charged once, at the start.
A node that dies takes its connections with it; the pump then closes their driver ends, which the
ledger records as runs lost, never as charged again.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

CHUNK_BYTES = 64 * 1024
MAX_CONNECTION_BYTES = 512 * 1024  # more than the ledger itself accepts from one connection (4 lines)
MAX_CONNECTIONS = 32
MAX_QUEUED_EVENTS = 4096
SEND_TIMEOUT_S = 5.0

Event = tuple[str, int, bytes]  # ("data" | "eof", connection, payload)


class NodeRelay:
    """A unix socket on the sandbox's node; what its clients write waits in `poll` for the driver."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="glia-relay-", dir="/tmp"))
        self.path = self.folder / "ledger.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(64)
        self._connections: dict[int, socket.socket] = {}
        self._events: list[Event] = []
        self._ready = threading.Condition()
        self._next = 0
        self._closed = False
        threading.Thread(target=self._accept_loop, name="glia-relay-accept", daemon=True).start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._ready:
                if len(self._connections) >= MAX_CONNECTIONS:
                    conn.close()  # the simulator's client retries; the ledger would refuse it anyway
                    continue
                self._next += 1
                number = self._next
                self._connections[number] = conn
            threading.Thread(target=self._read, args=(number, conn), daemon=True).start()

    def _read(self, number: int, conn: socket.socket) -> None:
        seen = 0
        try:
            while seen <= MAX_CONNECTION_BYTES:
                data = conn.recv(CHUNK_BYTES)
                if not data:
                    break
                seen += len(data)
                self._push(("data", number, data))
        except OSError:
            pass
        self._push(("eof", number, b""))

    def _push(self, event: Event) -> None:
        with self._ready:
            if len(self._events) < MAX_QUEUED_EVENTS or event[0] == "eof":
                self._events.append(event)
            self._ready.notify_all()

    def poll(self, timeout_s: float) -> list[Event]:
        """What arrived since the last poll, waiting up to `timeout_s` for something."""
        with self._ready:
            if not self._events and not self._closed:
                self._ready.wait(timeout_s)
            events, self._events = self._events, []
            return events

    def send(self, number: int, data: bytes) -> None:
        """The driver's answer for connection `number` (dropped when the client has gone)."""
        conn = self._connections.get(number)
        if conn is None:
            return
        try:
            conn.settimeout(SEND_TIMEOUT_S)
            conn.sendall(data)
        except OSError:
            self.hang_up(number)

    def hang_up(self, number: int) -> None:
        with self._ready:
            conn = self._connections.pop(number, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        for number in list(self._connections):
            self.hang_up(number)
        with self._ready:
            self._ready.notify_all()
        shutil.rmtree(self.folder, ignore_errors=True)


class DriverPump:
    """Plays a node relay's connections into the local ledger socket at `ledger_path`.

    `call(method, *args)` runs a method of the remote relay and returns its result (a Ray call); it
    raises when the node is gone, which ends the pump and closes every connection it opened.
    """

    def __init__(self, ledger_path: Path, call: Callable[..., Any], name: str) -> None:
        self.ledger_path = ledger_path
        self._call = call
        self._local: dict[int, socket.socket] = {}
        self._lock = threading.Lock()  # `_local`, shared with the answer threads
        self._batch = threading.Lock()  # one batch at a time: `flush` waits for the one in flight
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"glia-pump-{name}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self._cycle(1.0)
            except Exception as exc:  # noqa: BLE001 - the node or its actor is gone
                if not self._stopped.is_set():
                    log.warning("cluster.relay_lost", error=str(exc)[:300])
                break
        self._drop_all()

    def _cycle(self, timeout_s: float) -> None:
        events = self._call("relay_poll", timeout_s)
        with self._batch:
            for kind, number, payload in events:
                if kind == "data":
                    self._forward(number, payload)
                else:
                    self._end(number)

    def flush(self) -> None:
        """Forward whatever the node holds now (a command just ended: its runs' `end` lines)."""
        if self._stopped.is_set() or not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._cycle(0.0)

    def _forward(self, number: int, payload: bytes) -> None:
        with self._lock:
            local = self._local.get(number)
        if local is None:
            local = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                local.connect(str(self.ledger_path))
            except OSError:
                local.close()
                self._call("relay_hang_up", number)
                return
            with self._lock:
                self._local[number] = local
            threading.Thread(target=self._answers, args=(number, local), daemon=True).start()
        try:
            local.sendall(payload)
        except OSError:
            self._end(number)

    def _answers(self, number: int, local: socket.socket) -> None:
        """The ledger's replies go back to the node; its hang-up hangs up the remote client."""
        try:
            while True:
                data = local.recv(CHUNK_BYTES)
                if not data:
                    break
                self._call("relay_send", number, data)
        except Exception:  # noqa: BLE001 - the local socket closed or the node went away
            pass
        with self._lock:
            self._local.pop(number, None)
        local.close()
        with contextlib.suppress(Exception):
            self._call("relay_hang_up", number)

    def _end(self, number: int) -> None:
        """The remote client is done writing (or gone): the ledger sees the same from its side."""
        with self._lock:
            local = self._local.get(number)
        if local is not None:
            with contextlib.suppress(OSError):
                local.shutdown(socket.SHUT_WR)

    def _drop_all(self) -> None:
        with self._lock:
            dropped, self._local = list(self._local.values()), {}
        for local in dropped:
            with contextlib.suppress(OSError):
                local.shutdown(socket.SHUT_RDWR)
            local.close()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5.0)
        self._drop_all()
