"""A context's history on the host: a bare git repository written only with `git fast-import`.

The sandbox's files reach the host as `Tree` data (see `glia.workspace.tree`); this module turns each
tree into a commit on `refs/heads/main` of `ctx-K/history.git`. The host never runs git over a folder
the sandbox wrote: the repository has no work tree, is created by us with no hook templates, and every
git process runs with an explicit `--git-dir`, its working directory set to that git dir, system and
global config switched off, hooks and fsmonitor disabled, and an environment built from scratch. Only
`fast-import` writes; everything else is read-only plumbing between commits (`cat-file`, `ls-tree`,
`rev-list`, `diff-tree`, `diff`).

The first commit is the pristine template, so "what did this context change?" is always a diff against
`first_commit()`. Every `commit` makes a new commit even when the tree is unchanged, so each simulation
has a sha of its own; blobs of unchanged files are referenced by id rather than sent again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from glia.workspace.tree import Tree, TreeEntry, path_problem

HISTORY_DIR = "history.git"  # a context's history, inside its ctx-K folder
IDENTITY = b"glia <glia@localhost>"
PRISTINE_MESSAGE = "pristine template"
BRANCH = "refs/heads/main"
MAX_MESSAGE_CHARS = 4000
GIT_TIMEOUT_S = 300.0

# Settings that must hold whatever config might exist: no hooks, no fsmonitor, no external helpers.
_SAFE_CONFIG = (
    "core.bare=true",
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.attributesFile=/dev/null",
    "core.pager=cat",
    "protocol.allow=never",
    "gc.auto=0",
)


class HistoryError(RuntimeError):
    """A git plumbing command failed (the message carries git's own words)."""


def git_environment() -> dict[str, str]:
    """The complete environment of every host git process: nothing inherited that could steer git."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "LANG": "C",
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
    }


def blob_id(data: bytes) -> str:
    """The sha git gives a blob with these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class History:
    """Reads and writes one bare history repository. `commit` is thread-safe."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = Path(git_dir).resolve()
        if not (self.git_dir / "HEAD").is_file() or not (self.git_dir / "objects").is_dir():
            raise HistoryError(f"{self.git_dir} is not a history repository (create it with History.create)")
        self._lock = threading.Lock()
        self._head_blobs: dict[str, tuple[int, str]] | None = None  # path -> (mode, blob id) at head

    # -- creating

    @classmethod
    def create(cls, git_dir: Path, tree: Tree, message: str = PRISTINE_MESSAGE) -> History:
        """A new history whose first commit is `tree` (the pristine template)."""
        git_dir = Path(git_dir)
        if git_dir.exists() and any(git_dir.iterdir()):
            raise FileExistsError(f"{git_dir} already exists and is not empty")
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        _run_git(
            ["-c", "init.defaultBranch=main", "init", "--bare", "--quiet", "--template=", str(git_dir)],
            cwd=git_dir.parent,
        )
        history = cls(git_dir)
        history.commit(tree, message)
        return history

    @classmethod
    def open_or_create(cls, git_dir: Path, template: Tree, message: str = PRISTINE_MESSAGE) -> History:
        """The history at `git_dir`, or a new one starting from `template` (also when a crash left the
        repository made but without its first commit)."""
        if not (Path(git_dir) / "HEAD").is_file():
            return cls.create(git_dir, template, message)
        history = cls(git_dir)
        if history._head_or_none() is None:
            history.commit(template, message)
        return history

    # -- writing

    def commit(self, tree: Tree, message: str) -> str:
        """Record `tree` as a new commit on main (even if nothing changed); returns its sha."""
        with self._lock:
            parent = self._head_or_none()
            known = self._known_blobs(parent)
            stream = _fast_import_stream(tree, _clean_message(message), parent, known)
            self._git(["fast-import", "--quiet", "--done"], stdin=stream)
            sha = self._head_or_none()
            if sha is None or sha == parent:
                raise HistoryError("fast-import made no commit")
            self._head_blobs = {path: (entry.mode, blob_id(entry.data)) for path, entry in tree.items()}
            return sha

    def _known_blobs(self, head: str | None) -> set[str]:
        if head is None:
            return set()
        if self._head_blobs is None:
            self._head_blobs = {path: (mode, sha) for path, mode, sha in self._ls_tree(head)}
        return {sha for _, sha in self._head_blobs.values()}

    # -- reading

    def head(self) -> str:
        """The latest commit."""
        sha = self._head_or_none()
        if sha is None:
            raise HistoryError(f"{self.git_dir} has no commits")
        return sha

    def first_commit(self) -> str:
        """The pristine-template commit (the root of main)."""
        roots = self._git(["rev-list", "--max-parents=0", BRANCH]).decode().split()
        if not roots:
            raise HistoryError(f"{self.git_dir} has no commits")
        return roots[-1]

    def commits(self) -> list[str]:
        """Every commit on main, oldest first (none in a repository whose first commit never came)."""
        if self._head_or_none() is None:
            return []
        return self._git(["rev-list", "--reverse", BRANCH]).decode().split()

    def message(self, sha: str) -> str:
        """The commit message of `sha`."""
        raw = self._git(["cat-file", "commit", _checked_rev(sha)]).decode("utf-8", errors="replace")
        return raw.split("\n\n", 1)[1] if "\n\n" in raw else ""

    def read_file(self, sha: str, relpath: str) -> bytes:
        """The bytes of `relpath` at commit `sha`; KeyError when it is not a file there."""
        problem = path_problem(relpath)
        if problem:
            raise KeyError(f"{relpath!r}: {problem}")
        try:
            return self._git(["cat-file", "blob", f"{_checked_rev(sha)}:{relpath}"], quiet=True)
        except HistoryError:
            raise KeyError(f"{relpath} is not a file in commit {sha[:12]}") from None

    def read_text(self, sha: str, relpath: str) -> str:
        return self.read_file(sha, relpath).decode("utf-8")

    def tree_at(self, sha: str) -> Tree:
        """The whole tree of commit `sha` as data."""
        rows = self._ls_tree(sha)
        blobs = _cat_blobs(self, [blob for _, _, blob in rows])
        entries = {path: TreeEntry(mode, blobs[blob]) for path, mode, blob in rows}
        return Tree(entries)

    def changed_paths(self, base: str, sha: str) -> list[str]:
        """Paths added, removed or modified from `base` to `sha`."""
        out = self._git(
            ["diff-tree", "-r", "--no-renames", "--name-only", "-z", _checked_rev(base), _checked_rev(sha)]
        )
        return [p.decode("utf-8", errors="surrogateescape") for p in out.split(b"\0") if p]

    def diff(self, base: str, sha: str, paths: Sequence[str] | None = None) -> str:
        """Unified diff between two commits, optionally limited to `paths`."""
        args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", _checked_rev(base), _checked_rev(sha)]
        if paths:
            args += ["--", *(f":(literal){p}" for p in paths)]
        return self._git(args).decode("utf-8", errors="replace")

    # -- plumbing

    def _head_or_none(self) -> str | None:
        try:
            out = self._git(["rev-list", "-n", "1", BRANCH], quiet=True)
        except HistoryError:
            return None
        return out.decode().strip() or None

    def _ls_tree(self, sha: str) -> list[tuple[str, int, str]]:
        """(path, mode, object id) of every file at `sha`."""
        rows = []
        for record in self._git(["ls-tree", "-r", "-z", "--full-tree", _checked_rev(sha)]).split(b"\0"):
            if not record:
                continue
            meta, name = record.split(b"\t", 1)
            mode, _kind, object_id = meta.split(b" ")
            rows.append((name.decode("utf-8", errors="surrogateescape"), int(mode, 8), object_id.decode()))
        return rows

    def _git(self, args: list[str], stdin: bytes | None = None, quiet: bool = False) -> bytes:
        return _run_git(
            [f"--git-dir={self.git_dir}", *_config_flags(), *args], cwd=self.git_dir, stdin=stdin, quiet=quiet
        )


def _config_flags() -> list[str]:
    flags: list[str] = []
    for setting in _SAFE_CONFIG:
        flags += ["-c", setting]
    return flags


def _run_git(args: list[str], cwd: Path, stdin: bytes | None = None, quiet: bool = False) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_environment(),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise HistoryError(f"git {args[-1] if args else ''} failed: {err}") from err
    if done.returncode != 0:
        if quiet:
            raise HistoryError("")
        detail = done.stderr.decode("utf-8", errors="replace").strip()[-2000:]
        shown = next((a for a in args if not a.startswith("-") and "=" not in a), "git")
        raise HistoryError(f"git {shown} failed (exit {done.returncode}): {detail}")
    return done.stdout


def _checked_rev(sha: str) -> str:
    """Only full or abbreviated hex object names reach git's command line (never an option or a range)."""
    if not (isinstance(sha, str) and 4 <= len(sha) <= 64 and all(c in "0123456789abcdef" for c in sha)):
        raise KeyError(f"not a commit id: {sha!r}")
    return sha


def _cat_blobs(history: History, blob_ids: Iterable[str]) -> dict[str, bytes]:
    """Contents of many blobs through one `cat-file --batch`."""
    wanted = sorted(set(blob_ids))
    if not wanted:
        return {}
    out = history._git(["cat-file", "--batch"], stdin="".join(f"{b}\n" for b in wanted).encode())
    blobs: dict[str, bytes] = {}
    offset = 0
    for expected in wanted:
        end = out.index(b"\n", offset)
        object_id, _kind, size = out[offset:end].decode().split(" ")
        if object_id != expected:
            raise HistoryError(f"cat-file answered {object_id} for {expected}")
        start = end + 1
        blobs[object_id] = out[start : start + int(size)]
        offset = start + int(size) + 1
    return blobs


def _clean_message(message: str) -> bytes:
    """A commit message without NULs, at most MAX_MESSAGE_CHARS, ending with a newline."""
    text = message.replace("\0", "").strip() or "snapshot"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return (text + "\n").encode("utf-8", errors="replace")


def quote_path(path: str) -> bytes:
    """A path in fast-import's C-style quoting (always quoted, so no name can be misread)."""
    out = bytearray(b'"')
    for byte in path.encode("utf-8", errors="surrogateescape"):
        if byte == 0x22:
            out += b'\\"'
        elif byte == 0x5C:
            out += b"\\\\"
        elif byte < 0x20 or byte >= 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b'"'
    return bytes(out)


def _fast_import_stream(tree: Tree, message: bytes, parent: str | None, known: set[str]) -> bytes:
    """The fast-import commands committing `tree` on top of `parent` (the whole tree: deleteall + M)."""
    now = b"%d +0000" % int(time.time())
    parts = [
        b"commit " + BRANCH.encode() + b"\n",
        b"author " + IDENTITY + b" " + now + b"\n",
        b"committer " + IDENTITY + b" " + now + b"\n",
        b"data %d\n" % len(message),
        message,
    ]
    if parent is not None:
        parts.append(b"from " + parent.encode() + b"\n")
    parts.append(b"deleteall\n")
    for path, entry in tree.items():
        problem = path_problem(path)
        if problem:  # Tree refuses these already; a second check costs nothing
            raise HistoryError(f"{path!r}: {problem}")
        mode = b"%o" % entry.mode
        sha = blob_id(entry.data)
        if sha in known:
            parts.append(b"M " + mode + b" " + sha.encode() + b" " + quote_path(path) + b"\n")
        else:
            parts.append(b"M " + mode + b" inline " + quote_path(path) + b"\n")
            parts.append(b"data %d\n" % len(entry.data))
            parts.append(entry.data)
            parts.append(b"\n")
    parts.append(b"\ndone\n")
    return b"".join(parts)
