"""Fixtures shared by every test folder: the Docker engine, the workspace image, the simulator template.

Docker tests FAIL when no engine answers; a developer without Docker may opt out explicitly with
GLIA_SKIP_DOCKER=1, which skips every test marked `docker`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from glia.workspace.base import DockerUnavailable
from glia.workspace.engine import DEFAULT_IMAGE
from glia.workspace.engine import docker_client as connect_docker

REPO_ROOT = Path(__file__).resolve().parents[1]


def docker_opted_out() -> bool:
    return os.environ.get("GLIA_SKIP_DOCKER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not docker_opted_out():
        return
    skip = pytest.mark.skip(reason="GLIA_SKIP_DOCKER=1: Docker tests skipped on request")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a live engine; fails the test (never skips it) when none answers."""
    if docker_opted_out():
        pytest.skip("GLIA_SKIP_DOCKER=1: Docker tests skipped on request")
    try:
        client = connect_docker()
    except DockerUnavailable as err:
        pytest.fail(
            f"This test needs a running Docker engine. {err} (GLIA_SKIP_DOCKER=1 opts out.)", pytrace=False
        )
    yield client
    client.close()


@pytest.fixture(scope="session")
def workspace_image(docker_client: docker.DockerClient) -> str:
    """The tag of the built workspace image; fails with the command that builds it."""
    try:
        docker_client.images.get(DEFAULT_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(
            f"The workspace image {DEFAULT_IMAGE} is missing: run `glia image build` "
            "(or `python -m glia.workspace.image build`).",
            pytrace=False,
        )
    return DEFAULT_IMAGE


@pytest.fixture(scope="session")
def sim_template() -> Path:
    """The simulator repository template every context starts from."""
    return REPO_ROOT / "sim_repo_template"
