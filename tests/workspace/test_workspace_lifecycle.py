"""No container outlives its context: normal end, exceptions, signals, orphans; clear startup errors."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from workspace_helpers import make_context, unique_run_id

from glia.workspace import (
    DockerUnavailable,
    ImageMissing,
    Limits,
    WorkspaceDead,
    cleanup_containers,
    container_options,
    create_workspace,
)
from glia.workspace.engine import docker_client

REPO_ROOT = Path(__file__).resolve().parents[2]

# Started in a child process: a workspace mid-command when the signal arrives.
SIGNALLED_SCRIPT = """
import sys
from pathlib import Path
from glia.workspace import create_workspace, install_signal_cleanup

install_signal_cleanup()
workspace = create_workspace("docker", Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], "1")
workspace.start()
print("ready", flush=True)
workspace.exec("sleep 120", timeout_s=300)
"""


def containers_of(client, run_id: str) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": f"glia.run={run_id}"})]


@pytest.mark.parametrize("backend", [pytest.param("docker", marks=pytest.mark.docker), "local"])
def test_normal_end_closes_the_workspace(make_workspace, backend, request):
    workspace = make_workspace(backend)
    assert workspace.is_alive()
    assert workspace.exec("echo ok").output == "ok\n"
    workspace.close()
    workspace.close()  # idempotent
    assert not workspace.is_alive()
    with pytest.raises(WorkspaceDead):
        workspace.exec("true")
    if backend == "docker":
        assert containers_of(request.getfixturevalue("docker_client"), workspace.run_id) == []


@pytest.mark.docker
def test_an_exception_inside_the_context_manager_removes_the_container(
    docker_client, workspace_image, tmp_path
):
    repo, outputs = make_context(tmp_path)
    run_id = unique_run_id()
    with (
        pytest.raises(RuntimeError, match="boom"),
        create_workspace("docker", repo, outputs, run_id, "1") as ws,
    ):
        assert containers_of(docker_client, run_id) == [ws.name]
        raise RuntimeError("boom")
    assert containers_of(docker_client, run_id) == []


@pytest.mark.docker
@pytest.mark.parametrize(("sig", "expected_exit"), [(signal.SIGINT, -signal.SIGINT), (signal.SIGTERM, 143)])
def test_a_signal_removes_the_container(docker_client, workspace_image, tmp_path, sig, expected_exit):
    repo, outputs = make_context(tmp_path)
    run_id = unique_run_id()
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_SCRIPT, str(repo), str(outputs), run_id],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in child.stdout:
            if line.strip() == "ready":
                break
        else:
            pytest.fail(f"the child never got its workspace (exit {child.wait()})")
        assert len(containers_of(docker_client, run_id)) == 1
        child.send_signal(sig)
        assert child.wait(timeout=60) == expected_exit
    finally:
        child.kill()
    assert containers_of(docker_client, run_id) == []


@pytest.mark.docker
def test_cleanup_removes_an_orphaned_container(docker_client, workspace_image, tmp_path):
    repo, _outputs = make_context(tmp_path)
    run_id = unique_run_id()
    orphan = docker_client.containers.run(**container_options(workspace_image, repo, run_id, "9", Limits()))
    assert cleanup_containers(unique_run_id()) == []  # another run's cleanup leaves it alone
    assert containers_of(docker_client, run_id) == [orphan.name]
    assert cleanup_containers(run_id) == [orphan.name]
    assert containers_of(docker_client, run_id) == []


@pytest.mark.docker
def test_a_missing_image_is_a_clear_error(docker_client, tmp_path):
    repo, outputs = make_context(tmp_path)
    workspace = create_workspace("docker", repo, outputs, unique_run_id(), "1", image="glia-no-such-image:0")
    with pytest.raises(ImageMissing, match="glia image build"):
        workspace.start()


def test_no_engine_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DockerUnavailable, match="dockerd"):
        docker_client(timeout_s=5)
    repo, outputs = make_context(tmp_path)
    with pytest.raises(DockerUnavailable):
        create_workspace("docker", repo, outputs, unique_run_id(), "1").start()


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="docker, local"):
        create_workspace("vm", tmp_path, tmp_path, "r", "1")
