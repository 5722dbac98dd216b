"""Fixtures of the CLI tests: fixture run folders and a clean config / environment per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.run_fixtures import make_run


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the developer's own ~/.config/glia/config.yaml or workspaces root."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("GLIA_CONFIG", raising=False)
    monkeypatch.delenv("GLIA_WORKSPACES", raising=False)
    monkeypatch.delenv("GLIA_PRICES", raising=False)
    return home


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs", run_id="done", status="finished", strategy="mcg-par", contexts=2)


@pytest.fixture
def interrupted_run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs", run_id="cut", status="interrupted", strategy="mcg-seq", contexts=2)
