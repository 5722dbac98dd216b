"""The sandbox rules hold on a worker node exactly as on a workstation (tests/workspace/test_docker_isolation).

Three sandboxes are started, one a node (each goes to the node with the most free slots); those on
the two worker nodes are checked from inside (no network, nothing writable but the repository and
/tmp, not root, no model key) and from the node's engine (the container's flags). The driver's
environment holds model keys while they start: nodes only run sandboxes, and no key may reach one.
"""

from __future__ import annotations

import docker
import pytest

from glia.cluster import PLACEMENT, RayWorkspace
from glia.workspace import sandbox_ids
from glia.workspace.base import Limits
from glia.workspace.containers import MANAGED_LABEL, RUN_LABEL
from tests.blackbox.support import unique
from tests.orchestrator.e2e_support import run_containers

pytestmark = pytest.mark.docker

LIMITS = Limits(memory="256m", cpus=0.5, pids=64, disk="64m", tmp="16m")  # the local tests' small ones
KEYS = {"OPENAI_API_KEY": "sk-driver-secret-1", "ANTHROPIC_API_KEY": "sk-ant-driver-secret-2"}
NETWORK_PROBE = (
    "import socket\n"
    "s = socket.socket(); s.settimeout(3)\n"
    "try:\n    s.connect(('1.1.1.1', 53)); print('CONNECTED')\n"
    "except OSError as e:\n    print('blocked', e.errno)\n"
)
WRITABLE_PROBE = (
    "for d in / /etc /usr /workspace/repo /tmp /run; do touch $d/.w 2>/dev/null && echo $d; done; id -u"
)


def test_a_worker_nodes_sandbox_keeps_every_rule(
    ray_cluster, workspace_image, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    names = {node_id: name for name, node_id in ray_cluster.node_ids().items()}
    run_id = unique("rules")
    workspaces = [
        RayWorkspace(tmp_path / f"out-{n}", run_id, f"ctx{n}", image=workspace_image, limits=LIMITS)
        for n in range(3)
    ]
    client = docker.from_env()
    try:
        for workspace in workspaces:
            workspace.start()
        on = {names[w.where["node_id"]]: w for w in workspaces}
        assert sorted(on) == ["head", "worker-1", "worker-2"]  # one a node
        uid, gid = sandbox_ids()
        for node in ("worker-1", "worker-2"):
            workspace = on[node]
            network = workspace.exec(f'python -c "{NETWORK_PROBE}"; ls /sys/class/net', timeout_s=30)
            assert "CONNECTED" not in network.output and "blocked" in network.output
            assert network.output.split("\n")[1:] == ["lo", ""]  # no interface but loopback
            writable = workspace.exec(WRITABLE_PROBE, timeout_s=30).output.split()
            assert writable == ["/workspace/repo", "/tmp", str(uid)] and uid != 0
            env = workspace.exec("env", timeout_s=30).output
            assert not any(name in env or value in env for name, value in KEYS.items())

            (container,) = client.containers.list(
                filters={
                    "label": [f"{MANAGED_LABEL}=1", f"{RUN_LABEL}={run_id}"],
                    "name": workspace.context_id,
                }
            )
            attrs = container.attrs
            host = attrs["HostConfig"]
            assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
            assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
            assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (256 * 2**20, 500_000_000, 64)
            assert host["Tmpfs"] == {
                "/workspace": f"rw,exec,nosuid,nodev,size=64m,mode=0755,uid={uid},gid={gid}",
                "/tmp": "rw,exec,nosuid,nodev,size=16m,mode=1777",
                "/tmp/.local": "ro,nosuid,nodev,noexec,size=4k,mode=0555",
            }
            assert not host.get("Binds") and attrs["Mounts"] == []  # no folder of the node
            assert attrs["Config"]["User"] == f"{uid}:{gid}"
            assert not any(v.split("=", 1)[0] in KEYS for v in attrs["Config"]["Env"] or [])
    finally:
        for workspace in workspaces:
            workspace.close()
        client.close()
    assert PLACEMENT.in_use() == {}
    assert run_containers(run_id) == []
