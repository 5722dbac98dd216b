"""Compatibility tests: each writes workspace templates into a cache of its own, never ~/.cache/glia."""

from __future__ import annotations

from pathlib import Path

import pytest

FOLDERS = Path(__file__).resolve().parent / "folders"


@pytest.fixture(scope="session")
def compat_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("glia-compat-cache")


@pytest.fixture(autouse=True)
def isolated_glia_cache(compat_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GLIA_CACHE", str(compat_cache))
    return compat_cache


@pytest.fixture(scope="session")
def python313_image(docker_client) -> str:
    """The workspace image built from Debian trixie (Python 3.13); fails with the command that builds it."""
    import docker.errors

    from glia.workspace.task_image import python_image_tag

    tag = python_image_tag("3.13")
    try:
        docker_client.images.get(tag)
    except docker.errors.ImageNotFound:
        pytest.fail(
            f"The Python 3.13 workspace image {tag} is missing: run "
            f"`python -m glia.workspace.image build --method debian --suite trixie --tag {tag}`.",
            pytrace=False,
        )
    return tag
