"""The viewer's tests share one root of run folders per module (see tests/web/support.py); the run
`live` is held by this process (its lock, as a working `glia solve` holds it) while the module runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glia.record.lock import RunLock
from tests.web.support import build_root


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("viewer") / "workspaces"
    runs = build_root(folder)
    with RunLock(runs["live"], command="glia solve (test)"):
        yield folder
