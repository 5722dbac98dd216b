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
