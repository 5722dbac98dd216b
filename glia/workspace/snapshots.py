"""Saving a workspace's tree into the host history, and putting a saved tree back into a workspace.

The context saves after every command (only when something changed), at every simulation start (the
ledger calls `save` through a callable) and at the end. Saves are serialised, so a simulation's snapshot
and a command's autosave never interleave. `restore` rebuilds the sandbox's repository from a commit and
gives the Researcher a fresh git repository inside whose first commit is the pristine template, so
`git diff` against the template keeps working after a resume.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from glia.workspace.base import Workspace, WorkspaceError, WorkspaceFileError
from glia.workspace.history import History
from glia.workspace.sandbox_scripts import git_init_command
from glia.workspace.tree import DEFAULT_CAPS, DEFAULT_EXCLUDES, MODE_FILE, Tree, TreeCaps, TreeEntry

GIT_INIT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SavedTree:
    """One save: the commit that holds the tree, whether it differed from the last one, what was left out."""

    sha: str
    changed: bool
    skipped: tuple[str, ...]


class Snapshotter:
    """Moves trees between one workspace and one history; thread-safe."""

    def __init__(
        self,
        workspace: Workspace,
        history: History,
        excludes: Sequence[str] = DEFAULT_EXCLUDES,
        caps: TreeCaps = DEFAULT_CAPS,
        always: Sequence[str] = (),
    ) -> None:
        self.workspace = workspace
        self.history = history
        self.excludes = tuple(excludes)
        self.caps = caps
        self.always = tuple(always)  # files read one by one when a capped export left them out
        self._lock = threading.RLock()
        self._last_tree: Tree | None = None
        self._last_sha: str | None = None

    @property
    def last_sha(self) -> str:
        """The commit of the last save or restore (the history's head before any)."""
        with self._lock:
            return self._last_sha or self.history.head()

    def save(self, message: str, only_if_changed: bool = False) -> SavedTree:
        """Export the workspace's tree and commit it (unless unchanged and `only_if_changed`)."""
        with self._lock:
            tree = self._with_always(self.workspace.export_tree(self.excludes, self.caps))
            last = self._baseline()
            if only_if_changed and tree == last[1]:
                return SavedTree(last[0], False, tree.skipped)
            note = "" if tree.complete else "\n\n(incomplete export: " + "; ".join(tree.skipped[-3:]) + ")"
            sha = self.history.commit(tree, message + note)
            self._last_tree, self._last_sha = tree, sha
            return SavedTree(sha, tree != last[1], tree.skipped)

    def restore(self, sha: str) -> None:
        """Make the workspace's repository hold commit `sha`'s tree, with a fresh in-sandbox git whose
        first commit is the pristine template (the history's first commit)."""
        with self._lock:
            pristine_sha = self.history.first_commit()
            pristine = self.history.tree_at(pristine_sha)
            self.workspace.write_files(pristine, replace=True)
            result = self.workspace.exec(git_init_command(self.excludes), timeout_s=GIT_INIT_TIMEOUT_S)
            if result.exit_code != 0:
                raise WorkspaceError(f"could not set up git in the workspace: {result.output.strip()[-500:]}")
            target = pristine if sha == pristine_sha else self.history.tree_at(sha)
            if target is not pristine:
                self.workspace.write_files(target, replace=True)
            self._last_tree, self._last_sha = target, sha

    def _with_always(self, tree: Tree) -> Tree:
        """An incomplete export (a flood of files hit a cap) still carries the `always` files."""
        if tree.complete:
            return tree
        found: dict[str, TreeEntry] = {}
        for path in self.always:
            if path in tree:
                continue
            try:
                found[path] = TreeEntry(MODE_FILE, self.workspace.read_file(path, self.caps.max_file_bytes))
            except WorkspaceFileError:
                continue
        return tree.replace(found) if found else tree

    def _baseline(self) -> tuple[str, Tree]:
        if self._last_tree is None or self._last_sha is None:
            head = self.history.head()
            self._last_tree, self._last_sha = self.history.tree_at(head), head
        return self._last_sha, self._last_tree
