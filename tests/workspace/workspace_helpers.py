"""Helpers shared by the workspace tests (importable: this folder is on sys.path under pytest)."""

from __future__ import annotations

import uuid
from pathlib import Path

from glia.workspace import Limits, Tree, TreeEntry, Workspace, create_workspace
from glia.workspace.tree import MODE_FILE

TEMPLATE = Tree(
    {
        "pkg/design.py": TreeEntry(MODE_FILE, b"VALUE = 0\n"),
        ".gitignore": TreeEntry(MODE_FILE, b"simulator_results/\n"),
    }
)


def unique_run_id() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def started_workspace(
    backend: str, root: Path, context_id: str = "1", run_id: str | None = None, **limits: object
) -> Workspace:
    """A started workspace of a fresh context whose repository holds the two-file TEMPLATE."""
    workspace = create_workspace(
        backend,
        root / f"ctx-{context_id}" / "outputs",
        run_id or unique_run_id(),
        context_id,
        limits=Limits(**limits),
    )
    workspace.start()
    try:
        workspace.write_files(TEMPLATE)
    except BaseException:
        workspace.close()
        raise
    return workspace
