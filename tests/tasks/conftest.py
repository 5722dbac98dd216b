"""The stack tasks (batch scheduling, autoscaling, SLO routing): paths, loaders, a refusing ledger."""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from glia.task import Task
from glia.task_kinds import load_task

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "sim_repo_template"
FIXTURES = REPO / "tests" / "fixtures" / "designs"
if str(TEMPLATE) not in sys.path:
    sys.path.insert(0, str(TEMPLATE))

STACK_TASKS = ("batch_scheduling", "autoscaling", "slo_routing")
# each task's head-room design (a test fixture, never shipped in the template)
HEADROOM = {
    "batch_scheduling": "spf_replica_scheduler.py",
    "autoscaling": "inflight_autoscaler.py",
    "slo_routing": "late_binding_router.py",
}


def task_path(name: str) -> Path:
    return REPO / "tasks" / f"{name}.md"


@pytest.fixture(params=STACK_TASKS)
def stack_task(request) -> Task:
    return load_task(task_path(request.param))


class RefusingLedger:
    """A ledger socket that records each simulation's `start` conditions and refuses to let it run, so a
    benchmark command reports exactly what it would simulate at no cost."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="ledger-")
        self.path = str(Path(self.folder) / "l.sock")
        self.starts: list[dict] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(4)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(10)
                buffer = b""
                while b"\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    buffer += chunk
                if buffer:
                    self.starts.append(json.loads(buffer.split(b"\n", 1)[0]))
                    connection.sendall(b'{"ok": false, "error": "only recording conditions"}\n')

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()


@pytest.fixture
def refusing_ledger():
    ledger = RefusingLedger()
    yield ledger
    ledger.close()
