"""Workspace fixtures: started workspaces of either backend holding a tiny two-file repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from workspace_helpers import started_workspace

from glia.workspace import Workspace

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), "local"]
MakeWorkspace = Callable[..., Workspace]


@pytest.fixture
def make_workspace(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeWorkspace]:
    """Starts workspaces in fresh contexts and closes whatever the test left open."""
    opened: list[Workspace] = []

    def make(backend: str, context_id: str = "1", run_id: str | None = None, **limits: object) -> Workspace:
        if backend == "docker":
            request.getfixturevalue("workspace_image")
        workspace = started_workspace(backend, tmp_path, context_id, run_id, **limits)
        opened.append(workspace)
        return workspace

    yield make
    for workspace in opened:
        workspace.close()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_workspace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """One started workspace per backend, shared by a module's tests to keep the suite fast."""
    if request.param == "docker":
        request.getfixturevalue("workspace_image")
    root = tmp_path_factory.mktemp(f"shared-{request.param}")
    workspace = started_workspace(request.param, root, output_limit_chars=2000, pids=200)
    with workspace:
        yield workspace


@pytest.fixture(scope="module")
def isolated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A Docker workspace with small limits, shared by a module's isolation tests."""
    request.getfixturevalue("workspace_image")
    root = tmp_path_factory.mktemp("isolated")
    with started_workspace(
        "docker", root, memory="256m", cpus=0.5, pids=64, disk="64m", tmp="16m"
    ) as workspace:
        yield workspace
