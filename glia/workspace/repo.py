"""A context's own git repository: made from the simulator template, one commit per snapshot.

The first commit is the pristine template, so "what did this context change?" is always a diff against
`first_commit`. Snapshots commit the whole working tree (empty commits allowed, so every snapshot has a
sha of its own); simulator result folders are never committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import git

TEMPLATE_EXCLUDES = ("simulator_results", "__pycache__", ".git")
# Written to .git/info/exclude: honoured even if a template or the model drops its .gitignore.
ALWAYS_IGNORED = ("simulator_results/", "__pycache__/", "*.pyc")
IDENTITY = {"name": "glia", "email": "glia@localhost"}
PRISTINE_MESSAGE = "pristine template"


def init_repo(template: Path, dest: Path) -> str:
    """Copy `template` (minus results, caches and any .git) to `dest`, commit it, return that sha."""
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} already exists and is not empty")
    shutil.copytree(template, dest, ignore=shutil.ignore_patterns(*TEMPLATE_EXCLUDES), dirs_exist_ok=True)
    repo = git.Repo.init(dest, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", IDENTITY["name"])
        config.set_value("user", "email", IDENTITY["email"])
        config.set_value("commit", "gpgsign", "false")
    exclude = Path(repo.git_dir) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a") as handle:
        handle.write("\n".join(ALWAYS_IGNORED) + "\n")
    return snapshot(dest, PRISTINE_MESSAGE)


def snapshot(repo_path: Path, message: str) -> str:
    """Commit the whole working tree as it is now (even if unchanged) and return the new sha."""
    repo = git.Repo(repo_path)
    repo.git.add(all=True)
    repo.git.commit("--allow-empty", "--no-verify", "--quiet", "-m", message)
    return repo.head.commit.hexsha


def read_file_at(repo_path: Path, sha: str, relpath: str) -> str:
    """The text of `relpath` as it was in snapshot `sha` (KeyError if the file did not exist there)."""
    blob = git.Repo(repo_path).commit(sha).tree / relpath
    return blob.data_stream.read().decode("utf-8")


def restore_file(repo_path: Path, sha: str, relpath: str) -> None:
    """Put snapshot `sha`'s version of `relpath` back into the working tree."""
    target = repo_path / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(read_file_at(repo_path, sha, relpath), encoding="utf-8")


def diff(repo_path: Path, base_sha: str, sha: str | None, paths: list[str] | None = None) -> str:
    """Unified diff from `base_sha` to `sha` (None: the current working tree), limited to `paths`."""
    revisions = [base_sha] if sha is None else [base_sha, sha]
    args = ["--no-color", "--no-ext-diff", *revisions]
    if paths:
        args += ["--", *paths]
    return git.Repo(repo_path).git.diff(*args)


def first_commit(repo_path: Path) -> str:
    """The sha of the pristine-template commit."""
    roots = git.Repo(repo_path).git.rev_list("--max-parents=0", "HEAD").split()
    return roots[-1]


def head_sha(repo_path: Path) -> str:
    """The sha of the latest snapshot."""
    return git.Repo(repo_path).head.commit.hexsha
