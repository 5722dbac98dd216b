"""Shared pieces of the host-boundary attacks (test_host_*.py): a context's sandbox wired as the context
wires it (workspace + history + snapshotter), and a search of everything a run folder holds, git objects
decompressed, for secrets that must never leave the host or enter it.
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from glia.workspace import History, Limits, Snapshotter, Workspace, create_workspace, tree_from_folder
from glia.workspace.history import git_environment

TEMPLATE = Path(__file__).resolve().parents[2] / "sim_repo_template"
EXCLUDES = (".git", "__pycache__", "*.pyc", "simulator_results")


@dataclass
class Sandbox:
    """One context's sandbox and host history, under `run_dir/ctx-1`."""

    run_dir: Path
    workspace: Workspace
    history: History
    snapshotter: Snapshotter

    def run(self, command: str, timeout_s: float = 120) -> str:
        return self.workspace.exec(command, timeout_s=timeout_s).output

    def close(self) -> None:
        self.workspace.close()


def open_sandbox(backend: str, run_dir: Path, **limits: object) -> Sandbox:
    """Start a workspace holding the simulator template, with a fresh history, as a context does."""
    ctx = run_dir / "ctx-1"
    workspace = create_workspace(
        backend, ctx / "outputs", f"sec-{uuid.uuid4().hex[:8]}", "1", limits=Limits(**limits)
    )
    workspace.start()
    try:
        history = History.create(ctx / "history.git", tree_from_folder(TEMPLATE, EXCLUDES))
        snapshotter = Snapshotter(workspace, history, EXCLUDES)
        snapshotter.restore(history.head())
    except BaseException:
        workspace.close()
        raise
    return Sandbox(run_dir, workspace, history, snapshotter)


def everything_in(folder: Path) -> bytes:
    """Every byte under `folder`, plus the content of every git object of every repository in it."""
    chunks = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            chunks.append(path.read_bytes())
    for git_dir in {p.parent for p in folder.rglob("HEAD") if (p.parent / "objects").is_dir()}:
        objects = subprocess.run(
            ["git", f"--git-dir={git_dir}", "cat-file", "--batch-all-objects", "--batch"],
            env=git_environment(),
            capture_output=True,
            check=True,
        ).stdout
        chunks.append(objects)
    return b"\n".join(chunks)
