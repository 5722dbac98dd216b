"""The viewer's tests share two roots of run folders:

- `root` (per module): scripted run folders written with the record's real writers (tests/web/support.py),
  whose exact contents the server-side tests assert on; its run `live` is held by this process (its lock,
  as a working `glia solve` holds it) while the module runs, and its run `attack` is an attack in every field.
- `produced` (once per session): runs made the way a user makes them, by a real `glia compare` driven by
  the fake model server (tests/web/produced.py), with the quick routing task beside them for the live
  `glia solve` a browser test watches. It needs Docker: the trusted evaluator only runs in sandboxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from glia.record.lock import RunLock
from tests.orchestrator.e2e_support import write_quick_task
from tests.web.produced import Produced, run_compare
from tests.web.support import build_root


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("viewer") / "workspaces"
    runs = build_root(folder)
    with RunLock(runs["live"], command="glia solve (test)"):
        yield folder


@pytest.fixture(scope="session")
def produced(tmp_path_factory: pytest.TempPathFactory, workspace_image: str) -> Produced:

    folder = tmp_path_factory.mktemp("produced")
    task = write_quick_task(folder)
    root = folder / "workspaces"
    return Produced(root, task, run_compare(task, root))
