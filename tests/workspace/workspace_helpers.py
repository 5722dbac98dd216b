"""Helpers shared by the workspace tests (importable: this folder is on sys.path under pytest)."""

from __future__ import annotations

import uuid
from pathlib import Path

from glia.workspace import init_repo


def unique_run_id() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def make_context(root: Path, context_id: str = "1") -> tuple[Path, Path]:
    """(repo, outputs) folders of a fresh context made from a two-file template."""
    template = root / "template"
    if not template.exists():
        (template / "pkg").mkdir(parents=True)
        (template / "pkg" / "design.py").write_text("VALUE = 0\n")
        (template / ".gitignore").write_text("simulator_results/\n")
    context = root / f"ctx-{context_id}"
    init_repo(template, context / "repo")
    return context / "repo", context / "outputs"
