"""Workspace fixtures: a tiny template repository and started workspaces of either backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from workspace_helpers import make_context, unique_run_id

from glia.workspace import Limits, Workspace, create_workspace

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), "local"]
MakeWorkspace = Callable[..., Workspace]


@pytest.fixture
def make_workspace(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MakeWorkspace]:
    """Starts workspaces in fresh contexts and closes whatever the test left open."""
    opened: list[Workspace] = []

    def make(backend: str, context_id: str = "1", run_id: str | None = None, **limits: float) -> Workspace:
        if backend == "docker":
            request.getfixturevalue("workspace_image")
        repo, outputs = make_context(tmp_path, context_id)
        workspace = create_workspace(
            backend, repo, outputs, run_id or unique_run_id(), context_id, limits=Limits(**limits)
        )
        workspace.start()
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
    repo, outputs = make_context(tmp_path_factory.mktemp(f"shared-{request.param}"))
    limits = Limits(output_limit_chars=2000, pids=200)
    with create_workspace(request.param, repo, outputs, unique_run_id(), "1", limits=limits) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def isolated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A Docker workspace with small limits, shared by a module's isolation tests."""
    request.getfixturevalue("workspace_image")
    repo, outputs = make_context(tmp_path_factory.mktemp("isolated"))
    limits = Limits(memory="256m", cpus=0.5, pids=64)
    with create_workspace("docker", repo, outputs, unique_run_id(), "1", limits=limits) as workspace:
        yield workspace
