"""Files cross the boundary only as data, identically on both backends: write, export, read."""

from __future__ import annotations

import pytest
from workspace_helpers import TEMPLATE

from glia.workspace import Tree, TreeCaps, TreeEntry, WorkspaceFileError
from glia.workspace.tree import MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK

EXCLUDES = (".git", "__pycache__", "*.pyc", "simulator_results")


def test_written_files_are_what_commands_see_and_exports_return(shared_workspace):
    tree = Tree(
        {
            "pkg/design.py": TreeEntry(MODE_FILE, b"VALUE = 1\n"),
            "tools/run.sh": TreeEntry(MODE_EXECUTABLE, b"#!/bin/sh\necho ran\n"),
            "tools/link": TreeEntry(MODE_SYMLINK, b"run.sh"),
            "odd name é.txt": TreeEntry(MODE_FILE, b"odd\n"),
        }
    )
    shared_workspace.write_files(tree, replace=True)
    result = shared_workspace.exec("./tools/link; cat pkg/design.py 'odd name é.txt'", timeout_s=20)
    assert result.output == "ran\nVALUE = 1\nodd\n"
    exported = shared_workspace.export_tree(EXCLUDES)
    assert exported == tree and exported.complete and exported.skipped == ()
    shared_workspace.write_files(TEMPLATE, replace=True)
    assert shared_workspace.export_tree(EXCLUDES) == TEMPLATE


def test_replace_keeps_only_git_and_the_new_tree(shared_workspace):
    shared_workspace.exec("mkdir -p .git stray/deep && echo keep > .git/marker && echo x > stray/deep/f", 20)
    shared_workspace.write_files(TEMPLATE, replace=True)
    listing = shared_workspace.exec("ls -A; cat .git/marker; rm -rf .git", timeout_s=20).output.split()
    assert listing == [".git", ".gitignore", "pkg", "keep"]


def test_writing_over_a_planted_symlink_replaces_the_link(shared_workspace):
    shared_workspace.exec(
        "mkdir -p /tmp/elsewhere && ln -s /tmp/elsewhere pkg2 && ln -sf /tmp/t pkg/design.py", 20
    )
    shared_workspace.write_files(
        Tree({"pkg2/a.py": TreeEntry(MODE_FILE, b"a\n"), "pkg/design.py": TreeEntry(MODE_FILE, b"V = 2\n")})
    )
    assert shared_workspace.read_file("pkg/design.py", 100) == b"V = 2\n"
    assert (
        shared_workspace.exec("test -L pkg/design.py || echo plain; ls /tmp/elsewhere", 20).output
        == "plain\n"
    )
    shared_workspace.write_files(TEMPLATE, replace=True)


def test_export_skips_what_is_not_a_file_and_what_is_too_big(shared_workspace):
    shared_workspace.exec(
        "mkfifo pipe && head -c 5000 /dev/zero > big.bin && mkdir -p simulator_results/e && "
        "echo '{}' > simulator_results/e/summary.json && mkdir -p pkg/__pycache__ && touch pkg/__pycache__/x.pyc",
        timeout_s=20,
    )
    tree = shared_workspace.export_tree(EXCLUDES, TreeCaps(max_file_bytes=4096))
    assert set(tree) == set(TEMPLATE)
    assert any(line.startswith("pipe: a FIFO") for line in tree.skipped)
    assert any(line.startswith("big.bin: too big (5000 bytes") for line in tree.skipped)
    assert tree.complete
    shared_workspace.write_files(TEMPLATE, replace=True)


def test_read_file_reads_regular_files_only_and_caps_them(shared_workspace):
    shared_workspace.exec(
        "echo hello > plain.txt && ln -s plain.txt link && ln -s /etc/passwd etc_link && mkfifo fifo && "
        "ln -s /dev/zero zero && mkdir -p realdir && ln -s realdir dirlink && echo in > realdir/f",
        timeout_s=20,
    )
    assert shared_workspace.read_file("plain.txt", 6) == b"hello\n"
    assert shared_workspace.read_file("realdir/f", 10) == b"in\n"
    with pytest.raises(WorkspaceFileError, match="bigger than 5 bytes"):
        shared_workspace.read_file("plain.txt", 5)
    for name in ("link", "etc_link", "fifo", "zero", "dirlink/f", "realdir"):
        with pytest.raises(WorkspaceFileError, match="not a regular file"):
            shared_workspace.read_file(name, 100)
    with pytest.raises(WorkspaceFileError, match="no such file"):
        shared_workspace.read_file("missing.txt", 100)
    with pytest.raises(WorkspaceFileError, match="'..'"):
        shared_workspace.read_file("../../etc/passwd", 100)
    shared_workspace.write_files(TEMPLATE, replace=True)


def test_long_and_deep_names_cross_both_ways(shared_workspace):
    long_path = "/".join(["folder-with-a-long-name-" + "x" * 40] * 5) + "/" + "f" * 200 + ".txt"
    assert 500 < len(long_path) < 1024
    tree = TEMPLATE.replace({long_path: TreeEntry(MODE_FILE, b"far away\n")})
    shared_workspace.write_files(tree, replace=True)
    assert shared_workspace.read_file(long_path, 100) == b"far away\n"
    assert shared_workspace.export_tree(EXCLUDES) == tree
    shared_workspace.write_files(TEMPLATE, replace=True)
