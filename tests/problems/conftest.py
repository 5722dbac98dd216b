"""Every problem test writes its workspace templates into a cache of its own, never ~/.cache/glia."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def problem_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("glia-cache")


@pytest.fixture(autouse=True)
def isolated_glia_cache(problem_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GLIA_CACHE", str(problem_cache))
    return problem_cache


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's own Glia config file or workspaces root."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for variable in ("GLIA_CONFIG", "GLIA_WORKSPACES", "GLIA_PRICES"):
        monkeypatch.delenv(variable, raising=False)
    return home
