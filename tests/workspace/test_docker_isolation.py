"""What only the Docker backend promises: no network, limits, no host folder, separate contexts."""

from __future__ import annotations

import threading
import time

import docker
import pytest

from glia.workspace import WorkspaceDead, invocation_id, sandbox_ids
from glia.workspace.commands import BACKSTOP_S, KILL_GRACE_S
from glia.workspace.containers import container_name, owner

pytestmark = pytest.mark.docker


def test_container_flags_are_the_promised_ones(isolated, docker_client):
    attrs = docker_client.containers.get(isolated.container_id).attrs
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Init"] is True
    assert host["AutoRemove"] is True
    assert host["ReadonlyRootfs"] is True
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (256 * 2**20, 500_000_000, 64)
    uid, gid = sandbox_ids()
    assert host["Tmpfs"] == {
        "/workspace": f"rw,exec,nosuid,nodev,size=64m,mode=0755,uid={uid},gid={gid}",
        "/tmp": "rw,exec,nosuid,nodev,size=16m,mode=1777",
        "/tmp/.local": "ro,nosuid,nodev,noexec,size=4k,mode=0555",  # the user site under HOME, blocked
    }
    assert host["ShmSize"] == 64 * 2**20  # /dev/shm, the one other writable place, at its stated size
    assert not host.get("Binds") and attrs["Mounts"] == []  # no host folder, no volume
    assert attrs["Config"]["User"] == f"{uid}:{gid}" and uid != 0
    labels = attrs["Config"]["Labels"]
    assert labels["glia.managed"] == "1" and labels["glia.run"] == isolated.run_id
    assert labels["glia.context"] == "1"
    assert labels["glia.owner"] == owner() and labels["glia.invocation"] == invocation_id()
    assert attrs["Config"]["Cmd"] == ["sleep", "21600"]
    assert attrs["Name"] == f"/glia-{isolated.run_id}-ctx1"


def test_only_the_repository_and_tmp_are_writable(isolated):
    probe = (
        "for d in / /etc /usr /workspace/repo /tmp /run; do touch $d/.w 2>/dev/null && echo $d; done; id -u"
    )
    result = isolated.exec(probe, timeout_s=10)
    lines = result.output.split()
    assert lines[:-1] == ["/workspace/repo", "/tmp"]
    assert lines[-1] != "0"


def test_a_full_repository_is_an_ordinary_error_and_the_workspace_lives_on(isolated):
    result = isolated.exec("head -c 100m /dev/zero > big.bin; echo rc=$?; df -k . | tail -1", timeout_s=60)
    assert "No space left on device" in result.output and "rc=1" in result.output
    assert isolated.is_alive()
    after = isolated.exec("rm big.bin && echo ok > small.txt && cat small.txt", timeout_s=10)
    assert after.output == "ok\n"
    isolated.exec("rm small.txt")


def test_the_network_is_unreachable(isolated):
    probe = (
        "import socket\n"
        "s = socket.socket(); s.settimeout(3)\n"
        "try:\n    s.connect(('1.1.1.1', 53)); print('CONNECTED')\n"
        "except OSError as e:\n    print('blocked', e.errno)\n"
    )
    result = isolated.exec(f'python -c "{probe}"; ls /sys/class/net', timeout_s=20)
    assert "CONNECTED" not in result.output
    assert "blocked" in result.output
    assert result.output.split("\n")[1:] == ["lo", ""]


def test_a_fork_bomb_is_contained_and_the_container_survives(isolated):
    result = isolated.exec("bomb() { bomb | bomb & }; bomb", timeout_s=3)
    # It comes back: bash's fork retries under a full pid table can delay the in-sandbox kill, so the
    # bound is the host backstop rather than a tight figure that flakes under load.
    assert result.duration_s < 3 + KILL_GRACE_S + BACKSTOP_S + 5
    assert isolated.is_alive()
    # Under load the last killed processes may still hold process slots for a moment (until PID 1 has
    # reaped them): a command then fails to fork at once, and one a little later runs.
    for _ in range(30):
        after = isolated.exec("echo still-here; ps -e --no-headers | wc -l", timeout_s=10)
        if "fork" not in after.output:
            break
        time.sleep(1)
    assert after.output.startswith("still-here\n")
    assert int(after.output.split()[-1]) < 64


def test_memory_is_limited(isolated):
    result = isolated.exec("python -c 'x = bytearray(600 * 2**20); print(len(x))'", timeout_s=30)
    assert (result.exit_code, result.timed_out) == (137, False)
    assert "629145600" not in result.output
    assert result.output.endswith(
        "killed by SIGKILL (exit code 137); a common cause is going over the memory limit of 256m]\n"
    )
    assert isolated.is_alive()


def test_two_contexts_cannot_see_each_other(make_workspace):
    first = make_workspace("docker", context_id="1")
    second = make_workspace("docker", context_id="2", run_id=first.run_id)
    first.exec("echo private-to-one > secret.txt")
    looked = second.exec("ls /workspace; cat secret.txt; find / -name secret.txt 2>/dev/null; echo done")
    assert "private-to-one" not in looked.output
    assert looked.output.startswith("repo\n")
    assert looked.output.rstrip().endswith("done")
    assert first.read_file("secret.txt", 100) == b"private-to-one\n"
    assert "secret.txt" not in second.export_tree()


def test_a_container_dying_mid_command_gives_workspace_dead(make_workspace, docker_client):
    workspace = make_workspace("docker")
    threading.Timer(1.0, lambda: docker_client.containers.get(workspace.container_id).kill()).start()
    with pytest.raises(WorkspaceDead):
        workspace.exec("sleep 20", timeout_s=30)
    assert not workspace.is_alive()
    with pytest.raises(WorkspaceDead, match="not running"):
        workspace.exec("echo hello")


def test_the_self_destruct_timer_ends_the_container(make_workspace, docker_client):
    workspace = make_workspace("docker", lifetime_s=2)
    assert workspace.is_alive()
    deadline = time.monotonic() + 20
    while workspace.is_alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not workspace.is_alive()
    with pytest.raises(WorkspaceDead):
        workspace.exec("true")
    while time.monotonic() < deadline:  # auto-remove follows the stop closely
        try:
            docker_client.containers.get(workspace.container_id)
        except docker.errors.NotFound:
            break
        time.sleep(0.2)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(workspace.container_id)


def test_names_are_sanitised():
    assert container_name("run 2025/01:x", "ctx-3") == "glia-run-2025-01-x-ctx3"
    assert container_name("abc", "7") == "glia-abc-ctx7"


def test_the_image_has_the_promised_tools(isolated):
    probe = (
        "python -c 'import sys, numpy, pandas; print(sys.version_info >= (3, 11), numpy.__version__ > \"1\")'; "
        "for tool in git ps pkill timeout grep sed awk setsid nohup; do command -v $tool >/dev/null || echo missing $tool; done"
    )
    result = isolated.exec(
        probe, timeout_s=180
    )  # importing pandas on a busy 2-core CI machine took over 30 s
    assert (result.exit_code, result.output) == (0, "True True\n")
