"""A real Ray cluster on this one machine: a head and two worker nodes, each declaring sandbox slots.

Each node is its own `ray start` (one CPU, its own raylet and ports, the dashboard off), all under one
temporary folder; the fixture stops exactly that cluster at the end. Without Ray these tests fail: the
cluster is a feature, never a skip. All nodes share this machine's Docker engine, which is fine here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SLOTS = 2  # sandboxes per node


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ray_bin() -> str:
    path = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    if not Path(path).exists():
        pytest.fail("the cluster tests need Ray: pip install 'glia[cluster]'")
    return path


@dataclass
class LocalCluster:
    address: str
    env: dict[str, str]
    ray: str
    common: list[str]
    nodes: dict[str, int] = field(default_factory=dict)  # name -> node manager port

    def node_ids(self) -> dict[str, str]:
        """name -> Ray node id (matched by node manager port)."""
        import ray

        by_port = {n["NodeManagerPort"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}
        return {name: by_port[port] for name, port in self.nodes.items() if port in by_port}

    def raylet_pid(self, name: str) -> int:
        port = self.nodes[name]
        out = subprocess.run(
            ["pgrep", "-f", f"raylet.*--node_manager_port={port}"], capture_output=True, text=True
        )
        pids = [int(p) for p in out.stdout.split()]
        assert len(pids) == 1, f"raylet of {name}: {pids}"
        return pids[0]

    def kill_node(self, name: str) -> None:
        """SIGKILL the node's raylet: its workers (and the actors in them) die with it."""
        os.kill(self.raylet_pid(name), signal.SIGKILL)

    def add_node(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start worker node `name` (again, after `kill_node`): the next test finds the cluster whole.
        `env` is added to the node's environment (its raylet's, which its actors inherit)."""
        port = _free_port()
        subprocess.run(
            [self.ray, "start", f"--address={self.address}", f"--node-manager-port={port}", *self.common],
            env={**self.env, **(env or {})}, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.nodes[name] = port
        _wait_nodes(len(self.nodes))

    def remove_node(self, name: str) -> None:
        """Kill an extra node for good: the next tests find the head and two workers."""
        self.kill_node(name)
        del self.nodes[name]


@contextlib.contextmanager
def local_cluster(workers: int = 2, slots: int = SLOTS) -> Iterator[LocalCluster]:
    """A head and `workers` worker nodes on this machine, one CPU and `slots` sandboxes each, joined."""
    ray = _ray_bin()
    try:
        import ray as ray_module  # noqa: F401
    except ImportError:
        pytest.fail("the cluster tests need Ray: pip install 'glia[cluster]'")
    temp = Path("/tmp") / f"glia-ray-{os.getpid()}"  # short: Ray's socket paths must fit AF_UNIX
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), RAY_USAGE_STATS_ENABLED="0")
    common = ["--num-cpus=1", f"--resources={json.dumps({'glia_sandbox': slots})}", "--disable-usage-stats"]
    common += ["--object-store-memory=100000000", "--node-ip-address=127.0.0.1"]
    cluster = LocalCluster(address=f"127.0.0.1:{port}", env=env, ray=ray, common=common)
    try:
        head_port = _free_port()
        subprocess.run(
            [ray, "start", "--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}",
             f"--node-manager-port={head_port}", *common],
            env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        cluster.nodes["head"] = head_port
        _join(cluster.address, temp)
        for number in range(1, workers + 1):
            cluster.add_node(f"worker-{number}")
        yield cluster
    finally:
        from glia.cluster import connected, disconnect

        if connected():
            disconnect()
        subprocess.run([ray, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def _join(address: str, temp: Path, attempts: int = 3) -> None:
    """Connect this process as the driver. A join that fails (once seen on a loaded CI machine, with no
    reason given) is tried again; the last failure shows the tails of the head's own logs."""
    from glia.cluster import ClusterError, connect

    for attempt in range(1, attempts + 1):
        try:
            connect(address)
            return
        except ClusterError as err:
            import ray

            ray.shutdown()
            if attempt == attempts:
                pytest.fail(f"{err}\n{_log_tails(temp)}")
            time.sleep(5 * attempt)


def _log_tails(temp: Path, lines: int = 15) -> str:
    """The last lines of the head's GCS and raylet logs: why the join failed."""
    logs = sorted(temp.glob("session_*/logs/*")) if temp.exists() else []
    wanted = [f for f in logs if f.name.startswith(("gcs_server", "raylet")) and f.stat().st_size]
    parts = []
    for path in wanted[:6]:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no Ray logs under {temp})"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[LocalCluster]:
    """One local cluster for the session; the pytest process is its driver until the session ends.

    Its teardown stops every Ray process on the machine (`ray stop --force`), and a Ray driver whose
    cluster goes away exits its process: never run tests/cluster in two checkouts at once on one machine,
    or the other pytest process dies silently."""
    with local_cluster() as cluster:
        yield cluster


def _wait_nodes(count: int, timeout_s: float = 60.0) -> None:
    import ray

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum(1 for n in ray.nodes() if n["Alive"]) >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"the local Ray cluster did not reach {count} nodes")
