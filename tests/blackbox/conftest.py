"""Black-box tests write problem templates into a cache of their own and read no user config."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def problem_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("glia-cache")


@pytest.fixture(autouse=True)
def isolated_environment(problem_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLIA_CACHE", str(problem_cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    for variable in ("GLIA_CONFIG", "GLIA_WORKSPACES", "GLIA_PRICES"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspaces root per test module: runs share its baseline cache and secret seeds."""
    return tmp_path_factory.mktemp("workspaces")
