"""No container outlives its context: normal end, exceptions, signals, orphans; clear startup errors."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

import docker.errors
import pytest
from workspace_helpers import unique_run_id

from glia.workspace import (
    DockerUnavailable,
    ImageMissing,
    Limits,
    WorkspaceDead,
    WorkspaceError,
    cleanup_containers,
    container_options,
    create_workspace,
    list_containers,
    remove_invocation_containers,
)
from glia.workspace.containers import INVOCATION_LABEL, OWNER_LABEL
from glia.workspace.engine import docker_client

REPO_ROOT = Path(__file__).resolve().parents[2]

# Started in a child process: a workspace mid-command when the signal arrives.
SIGNALLED_SCRIPT = """
import sys
from pathlib import Path
from glia.workspace import create_workspace, install_signal_cleanup

install_signal_cleanup()
workspace = create_workspace("docker", Path(sys.argv[1]), sys.argv[2], "1")
workspace.start()
print("ready", flush=True)
workspace.exec("sleep 120", timeout_s=300)
"""


def containers_of(client, run_id: str) -> list[str]:
    found = client.api.containers(all=True, filters={"label": f"glia.run={run_id}"})
    return [c["Names"][0].lstrip("/") for c in found]


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
    run_id = unique_run_id()
    with (
        pytest.raises(RuntimeError, match="boom"),
        create_workspace("docker", tmp_path / "outputs", run_id, "1") as ws,
    ):
        assert containers_of(docker_client, run_id) == [ws.name]
        raise RuntimeError("boom")
    assert containers_of(docker_client, run_id) == []


@pytest.mark.docker
@pytest.mark.parametrize(("sig", "expected_exit"), [(signal.SIGINT, -signal.SIGINT), (signal.SIGTERM, 143)])
def test_a_signal_removes_the_container(docker_client, workspace_image, tmp_path, sig, expected_exit):
    run_id = unique_run_id()
    child = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_SCRIPT, str(tmp_path / "outputs"), run_id],
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


def orphan(docker_client, image: str, run_id: str, context: str, **labels: str):
    """A workspace-like container as another process (or user) would have left it."""
    options = container_options(image, run_id, context, Limits())
    options["labels"] = {**options["labels"], **labels}
    return docker_client.containers.run(**options)


@pytest.mark.docker
def test_cleanup_removes_an_orphaned_container_of_this_user(docker_client, workspace_image):
    run_id = unique_run_id()
    left = orphan(docker_client, workspace_image, run_id, "9", **{INVOCATION_LABEL: "an-earlier-process"})
    assert cleanup_containers(unique_run_id()) == []  # another run's cleanup leaves it alone
    assert remove_invocation_containers(run_id) == []  # not made by this process
    assert containers_of(docker_client, run_id) == [left.name]
    assert cleanup_containers(run_id) == [left.name]
    assert containers_of(docker_client, run_id) == []


@pytest.mark.docker
def test_cleanup_leaves_other_users_containers_unless_asked_for_all(docker_client, workspace_image):
    run_id = unique_run_id()
    theirs = orphan(docker_client, workspace_image, run_id, "1", **{OWNER_LABEL: "4242@elsewhere"})
    try:
        # (listing only: removing "all of this user's" would hit other test sessions on this engine)
        assert theirs.name not in [c.name for c in list_containers()]
        assert theirs.name in [c.name for c in list_containers(all_users=True)]
        assert cleanup_containers(run_id) == []  # this user's scope
        assert remove_invocation_containers(run_id, passes=2) == []  # this process's: not theirs either
        assert containers_of(docker_client, run_id) == [theirs.name]
        assert cleanup_containers(run_id, all_users=True) == [theirs.name]
        assert containers_of(docker_client, run_id) == []
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            theirs.remove(force=True)


@pytest.mark.docker
def test_a_stale_container_of_another_owner_is_not_replaced(docker_client, workspace_image, tmp_path):
    run_id = unique_run_id()
    theirs = orphan(docker_client, workspace_image, run_id, "1", **{OWNER_LABEL: "4242@elsewhere"})
    try:
        with pytest.raises(WorkspaceError, match="not this user's"):
            create_workspace("docker", tmp_path / "outputs", run_id, "1").start()
        assert containers_of(docker_client, run_id) == [theirs.name]
    finally:
        theirs.remove(force=True)


@pytest.mark.docker
def test_a_missing_image_is_a_clear_error(docker_client, tmp_path):
    workspace = create_workspace("docker", tmp_path, unique_run_id(), "1", image="glia-no-such-image:0")
    with pytest.raises(ImageMissing, match="glia image build"):
        workspace.start()


def test_no_engine_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DockerUnavailable, match="dockerd"):
        docker_client(timeout_s=5)
    with pytest.raises(DockerUnavailable):
        create_workspace("docker", tmp_path, unique_run_id(), "1").start()


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="docker, local"):
        create_workspace("vm", tmp_path, "r", "1")


def test_a_ledger_socket_path_too_long_for_af_unix_is_refused(tmp_path):
    with pytest.raises(WorkspaceError, match="AF_UNIX"):
        create_workspace("local", tmp_path, "r", "1", ledger_socket=tmp_path / ("x" * 120))
