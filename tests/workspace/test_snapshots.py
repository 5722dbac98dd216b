"""Saving a sandbox's tree into the host history and rebuilding a sandbox from it, on both backends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from workspace_helpers import TEMPLATE, started_workspace

from glia.workspace import History, Snapshotter

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), "local"]
EXCLUDES = (".git", "__pycache__", "*.pyc", "simulator_results")


@pytest.fixture(params=BACKENDS)
def saved(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "docker":
        request.getfixturevalue("workspace_image")
    workspace = started_workspace(request.param, tmp_path)
    history = History.create(tmp_path / "ctx-1" / "history.git", TEMPLATE)
    snapshotter = Snapshotter(workspace, history, EXCLUDES)
    snapshotter.restore(history.head())
    yield workspace, history, snapshotter
    workspace.close()


def test_restore_gives_the_researcher_a_git_with_the_pristine_template(saved):
    workspace, _history, _snapshotter = saved
    result = workspace.exec("git log --format=%s; git status --porcelain; cat pkg/design.py", timeout_s=20)
    assert result.output == "pristine template\nVALUE = 0\n"  # git status: bytecode is ignored
    compiled = workspace.exec("ls pkg/__pycache__", timeout_s=20).output
    assert "design.cpython-" in compiled  # compiled once, so the Researcher's runs do not compile it again
    workspace.exec("echo 'VALUE = 5' > pkg/design.py", timeout_s=20)
    assert "+VALUE = 5" in workspace.exec("git diff", timeout_s=20).output


def test_saves_commit_only_changes_when_asked_and_never_results(saved):
    workspace, history, snapshotter = saved
    first = history.head()
    unchanged = snapshotter.save("after: ls", only_if_changed=True)
    assert (unchanged.sha, unchanged.changed) == (first, False) and history.commits() == [first]
    forced = snapshotter.save("sim 1: same tree")
    assert forced.sha != first and not forced.changed
    workspace.exec(
        "echo 'VALUE = 9' > pkg/design.py; mkdir -p simulator_results/x; touch simulator_results/x/s"
    )
    edited = snapshotter.save("after: edit", only_if_changed=True)
    assert edited.changed and edited.sha == history.head()
    assert history.changed_paths(first, edited.sha) == ["pkg/design.py"]
    assert history.read_file(edited.sha, "pkg/design.py") == b"VALUE = 9\n"
    assert snapshotter.last_sha == edited.sha


def test_restoring_a_later_commit_rebuilds_the_tree_and_keeps_the_template_diff(saved):
    workspace, history, snapshotter = saved
    workspace.exec("echo 'VALUE = 3' > pkg/design.py && echo new > added.txt", timeout_s=20)
    later = snapshotter.save("edited").sha
    workspace.exec("rm -rf pkg added.txt .git && echo junk > junk.txt", timeout_s=20)
    snapshotter.restore(later)
    tree = workspace.export_tree(EXCLUDES)
    assert tree == history.tree_at(later)
    result = workspace.exec("git log --format=%s; git status --porcelain", timeout_s=20)
    assert result.output == "pristine template\n M pkg/design.py\n?? added.txt\n"
    assert not snapshotter.save("unchanged?", only_if_changed=True).changed


def test_concurrent_saves_are_serialised(saved):
    workspace, history, snapshotter = saved
    shas: list[str] = []

    def save(i: int) -> None:
        shas.append(snapshotter.save(f"sim {i}").sha)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(shas)) == 4 and history.commits()[1:] == sorted(shas, key=history.commits().index)
