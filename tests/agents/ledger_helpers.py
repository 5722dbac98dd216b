"""Helpers for the ledger tests: raw socket clients, a recording handler and the simulator's client module."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from glia.agents.ledger_socket import Answer, EndReport, StartReport

CLIENT_MODULE = Path(__file__).resolve().parents[2] / "sim_repo_template" / "llmsim" / "glia_ledger.py"


def load_client() -> ModuleType:
    """The simulator-side client (`llmsim/glia_ledger.py`), imported on its own: it needs nothing else."""
    spec = importlib.util.spec_from_file_location("glia_ledger_client", CLIENT_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(path: Path, timeout: float = 5.0) -> socket.socket:
    """Connect, retrying while the server's backlog is full (as the simulator's client does)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            return sock
        except BlockingIOError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def send(sock: socket.socket, message: Any) -> None:
    data = message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n"
    sock.sendall(data)


def read_answer(sock: socket.socket) -> dict[str, Any] | None:
    """The server's answer line, or None when it hung up without one."""
    buffer = b""
    while b"\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        buffer += chunk
    return json.loads(buffer.split(b"\n", 1)[0])


def start_message(conditions: Any = None, result_dir: Any = "simulator_results/x/1") -> dict[str, Any]:
    return {
        "op": "start",
        "conditions": conditions if conditions is not None else {"router": "ai"},
        "result_dir": result_dir,
    }


def end_message(valid: Any = True, error: Any = None, summary: Any = None) -> dict[str, Any]:
    return {"op": "end", "valid": valid, "error": error, "summary": summary}


def simulate(
    path: Path,
    conditions: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    valid: bool = True,
) -> dict:
    """One well-behaved simulation: start, read the answer, end when allowed. Returns the answer."""
    with connect(path) as sock:
        send(sock, start_message(conditions))
        answer = read_answer(sock)
        if answer and answer.get("ok"):
            send(sock, end_message(valid, None if valid else "RouterError: boom", summary))
        return answer or {}


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@dataclass
class RecordingHandler:
    """A ReportHandler that grants every start (or refuses with `refuse`) and remembers everything."""

    refuse: str | None = None
    starts: list[tuple[int, StartReport]] = field(default_factory=list)
    ends: list[tuple[int, EndReport]] = field(default_factory=list)
    lost: list[tuple[int, str]] = field(default_factory=list)
    start_delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_start(self, connection: int, report: StartReport) -> Answer:
        if self.start_delay_s:
            time.sleep(self.start_delay_s)
        with self.lock:
            if self.refuse:
                return Answer(False, error=self.refuse)
            self.starts.append((connection, report))
            return Answer(True, simulation=len(self.starts))

    def on_end(self, connection: int, report: EndReport) -> None:
        with self.lock:
            self.ends.append((connection, report))

    def on_lost(self, connection: int, reason: str) -> None:
        with self.lock:
            self.lost.append((connection, reason))


class FakeSnapshots:
    """A stand-in for the workspace's Snapshotter: counts calls and returns made-up shas."""

    def __init__(self, fail: bool = False) -> None:
        self.messages: list[str] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, message: str) -> str:
        with self.lock:
            self.messages.append(message)
            if self.fail:
                raise RuntimeError("export failed")
            return f"{len(self.messages):040x}"
