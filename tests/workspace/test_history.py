"""The host history: a bare repository written only by fast-import, read by plumbing between commits."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from glia.workspace.history import History, HistoryError, blob_id, git_environment, quote_path
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK, Tree, TreeEntry

DESIGN = "pkg/design.py"


TEMPLATE = Tree(
    {
        DESIGN: TreeEntry(MODE_FILE, b"def route():\n    return 0\n"),
        "README.md": TreeEntry(MODE_FILE, b"template\n"),
    }
)


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History.create(tmp_path / "ctx-1" / "history.git", TEMPLATE)


def git(history: History, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={history.git_dir}", *args],
        env=git_environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_first_commit_is_the_template_and_the_repository_is_bare_and_bare_of_hooks(history):
    first = history.first_commit()
    assert first == history.head() == history.commits()[0]
    assert history.tree_at(first) == TEMPLATE
    assert history.message(first) == "pristine template\n"
    assert sorted(os.listdir(history.git_dir)) == ["HEAD", "config", "objects", "refs"]  # no hooks/, no info/
    assert "bare = true" in (history.git_dir / "config").read_text()


def test_each_commit_is_new_even_when_nothing_changed(history):
    first = history.head()
    again = history.commit(TEMPLATE, "sim 1: same design")
    assert again != first and history.changed_paths(first, again) == []
    assert history.commits() == [first, again]


def test_files_modes_symlinks_and_odd_names_survive(history):
    odd = {
        'we ird/"quoted"\\back é.py': TreeEntry(MODE_FILE, b"odd\n"),
        "bin/run.sh": TreeEntry(MODE_EXECUTABLE, b"#!/bin/sh\n"),
        "to_shadow": TreeEntry(MODE_SYMLINK, b"/etc/shadow"),
        "data.bin": TreeEntry(MODE_FILE, bytes(range(256))),
    }
    sha = history.commit(TEMPLATE.replace(odd), "odd names")
    assert history.tree_at(sha) == TEMPLATE.replace(odd)
    assert history.read_file(sha, 'we ird/"quoted"\\back é.py') == b"odd\n"
    assert history.read_file(sha, "to_shadow") == b"/etc/shadow"
    assert sorted(history.changed_paths(history.first_commit(), sha)) == sorted(odd)


def test_read_diff_and_missing_files(history):
    first = history.first_commit()
    edited = TEMPLATE.replace({DESIGN: TreeEntry(MODE_FILE, b"def route():\n    return 7\n")})
    sha = history.commit(edited, "edit")
    assert history.read_text(first, DESIGN).endswith("return 0\n")
    assert history.read_text(sha, DESIGN).endswith("return 7\n")
    full = history.diff(first, sha)
    assert "-    return 0" in full and "+    return 7" in full
    assert history.diff(first, sha, ["README.md"]) == ""
    with pytest.raises(KeyError):
        history.read_file(sha, "no/such/file.py")
    with pytest.raises(KeyError):
        history.read_file(sha, "pkg")  # a folder is not a file
    with pytest.raises(KeyError):
        history.read_file("--output=/tmp/x", DESIGN)  # never an option on git's command line


def test_unchanged_blobs_are_referenced_not_resent(history, monkeypatch):
    big = os.urandom(4 * 2**20)
    with_big = TEMPLATE.replace({"big.bin": TreeEntry(MODE_FILE, big)})
    history.commit(with_big, "big file")
    sent: list[int] = []
    real = History._git

    def counting(self, args, stdin=None, quiet=False):
        if args and args[0] == "fast-import":
            sent.append(len(stdin or b""))
        return real(self, args, stdin, quiet)

    monkeypatch.setattr(History, "_git", counting)
    edited = with_big.replace({DESIGN: TreeEntry(MODE_FILE, b"changed\n")})
    sha = History(history.git_dir).commit(edited, "small edit")  # a fresh object learns the head's blobs
    assert sent and sent[0] < 4096
    assert history.read_file(sha, "big.bin") == big
    assert blob_id(big) in git(history, "ls-tree", "-r", sha)


def test_concurrent_commits_are_serialised(history):
    shas: list[str] = []

    def commit(i: int) -> None:
        shas.append(history.commit(TEMPLATE.replace({f"f{i}": TreeEntry(MODE_FILE, b"%d" % i)}), f"c{i}"))

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(shas)) == 8 and len(history.commits()) == 9
    assert git(history, "rev-list", "--count", "main").strip() == "9"  # one line of history, nothing lost


def test_sandbox_made_git_files_are_data_only(history, tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    hostile = TEMPLATE.replace(
        {
            ".gitattributes": TreeEntry(MODE_FILE, b"* diff=evil filter=evil\n"),
            ".gitmodules": TreeEntry(MODE_FILE, b'[submodule "x"]\n\tpath = x\n\turl = /etc\n'),
            "hooks/post-commit": TreeEntry(MODE_EXECUTABLE, f"#!/bin/sh\ntouch {marker}\n".encode()),
        }
    )
    # An environment that would steer an ordinary git invocation
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'diff.evil.textconv=touch {marker}'")
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", f"touch {marker}")
    sha = history.commit(hostile, "hostile")
    diff = history.diff(history.first_commit(), sha)
    history.tree_at(sha)
    assert "filter=evil" in diff and not marker.exists()


def test_fast_import_quoting():
    assert quote_path("plain/name.py") == b'"plain/name.py"'
    assert quote_path('a "b"\\c') == b'"a \\"b\\"\\\\c"'
    assert quote_path("é") == b'"\\303\\251"'


def test_opening_something_else_is_refused(tmp_path):
    with pytest.raises(HistoryError, match="not a history"):
        History(tmp_path)
    with pytest.raises(FileExistsError):
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / "x").write_text("x")
        History.create(tmp_path / "busy", TEMPLATE)


def test_a_history_left_without_its_first_commit_is_completed(tmp_path):
    git_dir = tmp_path / "history.git"
    subprocess.run(
        ["git", "init", "--bare", "--quiet", "--template=", str(git_dir)], check=True, env=git_environment()
    )
    assert History(git_dir).commits() == []
    history = History.open_or_create(git_dir, TEMPLATE)
    assert history.commits() == [history.first_commit()] and history.tree_at(history.head()) == TEMPLATE
    assert History.open_or_create(git_dir, Tree()).commits() == history.commits()  # an existing one is kept
