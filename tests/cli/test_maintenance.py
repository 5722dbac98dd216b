"""`glia cleanup` against a real engine; `glia image build` wiring (building is the workspace package's job)."""

from __future__ import annotations

import contextlib
import uuid

import docker.errors
import pytest

from glia.cli import main
from glia.workspace.base import WorkspaceError
from glia.workspace.docker_backend import MANAGED_LABEL, RUN_LABEL


@pytest.mark.docker
def test_cleanup_removes_only_the_runs_containers(docker_client, workspace_image, capsys) -> None:
    run_id, other = f"cli-test-{uuid.uuid4().hex[:8]}", f"cli-keep-{uuid.uuid4().hex[:8]}"
    made = [
        docker_client.containers.create(
            workspace_image,
            ["sleep", "600"],
            name=f"glia-{rid}-{n}",
            labels={MANAGED_LABEL: "1", RUN_LABEL: rid},
            network_mode="none",
        )
        for rid, n in ((run_id, 1), (run_id, 2), (other, 1))
    ]
    try:
        assert main(["cleanup", "--run", run_id]) == 0
        out = capsys.readouterr().out
        assert f"Removed 2 container(s) of run {run_id}" in out
        for container in made[:2]:
            with pytest.raises(docker.errors.NotFound):
                docker_client.containers.get(container.id)
        assert docker_client.containers.get(made[2].id).labels[RUN_LABEL] == other
        assert main(["cleanup", "--run", run_id]) == 0
        assert f"Removed 0 container(s) of run {run_id}." in capsys.readouterr().out
    finally:
        for container in made:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_image_build_passes_method_and_tag(monkeypatch, capsys) -> None:
    calls = []

    def fake_build(tag: str, method: str) -> str:
        calls.append((tag, method))
        return "sha256:0123456789abcdef0123456789"

    monkeypatch.setattr("glia.workspace.image.build_image", fake_build)
    assert main(["image", "build", "--method", "debian", "--tag", "glia-x:1"]) == 0
    assert calls == [("glia-x:1", "debian")]
    assert "Built glia-x:1 (sha256:0123456789ab)" in capsys.readouterr().out


def test_image_build_without_registry_suggests_debian(monkeypatch, capsys) -> None:
    def no_registry(tag: str, method: str) -> str:
        raise WorkspaceError(f"Building {tag} from the Dockerfile failed: registry unreachable")

    monkeypatch.setattr("glia.workspace.image.build_image", no_registry)
    assert main(["image", "build", "--method", "dockerfile"]) == 2
    err = capsys.readouterr().err
    assert "from the Dockerfile failed: registry unreachable" in err
    assert (
        "fix: without a reachable registry, build from Debian packages: `glia image build --method debian`"
        in err
    )
