"""The per-context git repository: pristine first commit, snapshots, reading back, diffs."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from glia.workspace.repo import diff, first_commit, head_sha, init_repo, read_file_at, restore_file, snapshot

DESIGN = "pkg/design.py"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    root = tmp_path / "template"
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "design.py").write_text("def route():\n    return 0\n")
    (root / "pkg" / "__pycache__" / "design.cpython-311.pyc").write_bytes(b"\x00compiled")
    (root / "README.md").write_text("template\n")
    (root / "simulator_results" / "old").mkdir(parents=True)
    (root / "simulator_results" / "old" / "summary.json").write_text("{}")
    git.Repo.init(root)  # a template that is itself a repository: its history must not leak in
    return root


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "run" / "ctx-1" / "repo"
    init_repo(template, dest)
    return dest


def committed_files(repo_path: Path, sha: str) -> set[str]:
    return set(git.Repo(repo_path).git.ls_tree("-r", "--name-only", sha).split())


def test_first_commit_is_the_pristine_template_without_results_caches_or_history(template, tmp_path):
    dest = tmp_path / "repo"
    sha = init_repo(template, dest)
    assert first_commit(dest) == sha == head_sha(dest)
    assert committed_files(dest, sha) == {"README.md", DESIGN}
    assert not (dest / "simulator_results").exists()
    assert not (dest / "pkg" / "__pycache__").exists()
    assert len(list(git.Repo(dest).iter_commits())) == 1
    reader = git.Repo(dest).config_reader()
    assert reader.get_value("user", "name") == "glia"


def test_refuses_a_non_empty_destination(template, tmp_path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "file").write_text("x")
    with pytest.raises(FileExistsError):
        init_repo(template, dest)


def test_snapshots_restore_earlier_versions(repo):
    pristine = first_commit(repo)
    (repo / DESIGN).write_text("def route():\n    return 1\n")
    first = snapshot(repo, "try shortest queue")
    (repo / DESIGN).write_text("def route():\n    return 2\n")
    second = snapshot(repo, "try least work")
    assert len({pristine, first, second}) == 3
    assert read_file_at(repo, pristine, DESIGN).endswith("return 0\n")
    assert read_file_at(repo, first, DESIGN) == "def route():\n    return 1\n"
    assert read_file_at(repo, second, DESIGN).endswith("return 2\n")
    restore_file(repo, first, DESIGN)
    assert (repo / DESIGN).read_text() == "def route():\n    return 1\n"
    assert git.Repo(repo).commit(second).message.strip() == "try least work"


def test_unchanged_tree_still_gets_its_own_snapshot(repo):
    before = head_sha(repo)
    after = snapshot(repo, "nothing changed, but this is where simulation 3 ran")
    assert after != before
    assert git.Repo(repo).commit(after).parents[0].hexsha == before


def test_results_are_never_snapshotted_even_without_a_gitignore(repo):
    (repo / ".gitignore").unlink(missing_ok=True)
    results = repo / "simulator_results" / "exp" / "2025-01-01"
    results.mkdir(parents=True)
    (results / "summary.json").write_text('{"valid": true}')
    (repo / "pkg" / "__pycache__").mkdir()
    (repo / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    (repo / "notes.txt").write_text("new file\n")
    sha = snapshot(repo, "after a simulation")
    assert committed_files(repo, sha) == {"README.md", DESIGN, "notes.txt"}


def test_diff_between_snapshots_vs_template_and_vs_working_tree(repo):
    pristine = first_commit(repo)
    (repo / DESIGN).write_text("def route():\n    return 7\n")
    (repo / "README.md").write_text("changed readme\n")
    sha = snapshot(repo, "edit")
    full = diff(repo, pristine, sha)
    assert "-    return 0" in full and "+    return 7" in full and "changed readme" in full
    only_design = diff(repo, pristine, sha, paths=[DESIGN])
    assert "+    return 7" in only_design and "README" not in only_design
    assert diff(repo, sha, sha) == ""
    (repo / DESIGN).write_text("def route():\n    return 8\n")
    assert "+    return 8" in diff(repo, sha, None, paths=[DESIGN])


def test_reading_a_file_absent_from_a_snapshot_raises(repo):
    with pytest.raises(KeyError):
        read_file_at(repo, first_commit(repo), "no/such/file.py")


def test_real_simulator_template_makes_a_repository(sim_template, tmp_path):
    dest = tmp_path / "sim"
    sha = init_repo(sim_template, dest)
    files = committed_files(dest, sha)
    assert "llmsim/__init__.py" in files
    assert not any(name.startswith("simulator_results/") or "__pycache__" in name for name in files)
