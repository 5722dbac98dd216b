"""Attacks on the host boundary from inside a real sandbox: git, symlinks, hangs and floods, disk.

The Researcher is the adversary and controls every byte in its repository. Each test plants one class of
attack (with variants) the way a command would, then drives the host side the way a context does (save
after a command, save at a simulation start, restore on resume, the final save, the host's diffs), and
asserts that nothing happened on the host: no marker file, no host content in the run folder, bounded
time and memory.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
from host_support import Sandbox, everything_in, open_sandbox

from glia.notes import _design_diff
from glia.workspace import Snapshotter, WorkspaceFileError
from glia.workspace.tree import MODE_SYMLINK, TreeEntry

DOCKER = pytest.mark.docker


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, tmp_path: Path):
    """A Docker sandbox (or the backend named by indirect parametrisation) holding the template."""
    backend = getattr(request, "param", "docker")
    if backend == "docker":
        request.getfixturevalue("workspace_image")
    box = open_sandbox(backend, tmp_path / "run", **getattr(request.node.function, "limits", {}))
    yield box
    box.close()


def with_limits(**limits: object):
    def mark(function):
        function.limits = limits
        return function

    return mark


def drive_the_host_side(box: Sandbox) -> str:
    """What a context does with a sandbox's tree: autosave, simulation snapshot, resume, final, diffs."""
    box.snapshotter.save("after: attack", only_if_changed=True)
    box.snapshotter.save("sim 1: claimed 1.0")
    box.snapshotter.restore(box.history.head())  # a resume rebuilds the sandbox from the history
    final = box.snapshotter.save("final").sha
    box.history.diff(box.history.first_commit(), final)
    box.history.tree_at(final)
    box.history.changed_paths(box.history.first_commit(), final)
    _design_diff(box.history.git_dir, final)  # the notes' "diff from the template"
    return final


# ------------------------------------------------------------------ 1. host command execution via git

# Plants every git-config route to running a command that the host could be tricked into: the marker
# path is a HOST path, so a marker appearing means the host ran it.
GIT_ATTACK = r"""
set -e
M=$1
git config core.fsmonitor "touch $M-fsmonitor"
git config core.hooksPath "$PWD/.githooks"
git config diff.external "touch $M-extdiff"
git config core.pager "touch $M-pager"
git config filter.evil.clean "touch $M-clean"
git config filter.evil.smudge "touch $M-smudge"
git config diff.evil.textconv "touch $M-textconv"
git config core.sshCommand "touch $M-ssh"
mkdir -p .githooks
for hook in pre-commit post-commit post-checkout post-index-change reference-transaction fsmonitor-watchman; do
  printf '#!/bin/sh\ntouch %s-hook-%s\n' "$M" "$hook" > ".githooks/$hook"
  cp ".githooks/$hook" ".git/hooks/$hook"
done
chmod +x .githooks/* .git/hooks/*
printf '* filter=evil diff=evil\n' > .gitattributes
printf '[submodule "evil"]\n\tpath = evil\n\turl = ext::sh -c touch%% %s-submodule\n' "$M" > .gitmodules
mkdir -p nested/inner && cd nested/inner && git init -q && git config core.fsmonitor "touch $M-nested" \
  && echo nested > f && cd - > /dev/null
mkdir -p sub && printf '[core]\n\tfsmonitor = touch %s-subgit\n' "$M" > sub/config && mkdir sub/.git \
  && cp sub/config sub/.git/config && mkdir -p sub/.GIT && cp sub/config sub/.GIT/config
echo 'VALUE = 1' >> README.md
"""


def host_control(script: str, folder: Path, marker: str) -> list[str]:
    """Run the attack on a host folder and a naive `git status` / `git diff` there: which markers appear
    (proves the payload is live, so the real test can fail)."""
    folder.mkdir()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(folder)}
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True, env=env)
    subprocess.run(["bash", "-c", script, "attack", marker], cwd=folder, check=True, env=env)
    for args in (["status"], ["diff"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=folder, env=env, capture_output=True)
    return sorted(p.name for p in folder.parent.glob(Path(marker).name + "*"))


@DOCKER
def test_git_in_the_sandbox_never_runs_anything_on_the_host(sandbox: Sandbox, tmp_path: Path):
    marker = tmp_path / "markers" / "host"
    marker.parent.mkdir()
    fired = host_control(GIT_ATTACK, tmp_path / "control", str(tmp_path / "control-marker"))
    assert "control-marker-fsmonitor" in fired and any("hook" in m for m in fired)  # the payload is live

    planted = sandbox.workspace.exec(f"bash -c {shlex.quote(GIT_ATTACK)} attack {marker}", timeout_s=60)
    assert planted.exit_code == 0, planted.output
    final = drive_the_host_side(sandbox)

    assert list(marker.parent.iterdir()) == []
    tree = sandbox.history.tree_at(final)
    assert not [p for p in tree if any(part.lower() == ".git" for part in p.split("/"))]
    assert ".gitmodules" in tree and ".gitattributes" in tree  # carried as data, never obeyed
    assert tree["nested/inner/f"].data == b"nested\n"  # the nested repository's files, not its .git
    assert sorted(os.listdir(sandbox.history.git_dir)) == ["HEAD", "config", "objects", "refs"]


@DOCKER
@pytest.mark.parametrize("replacement", ["file", "symlink", "dangling"])
def test_a_replaced_dot_git_is_never_followed(sandbox: Sandbox, tmp_path: Path, replacement: str):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.git"  # a host git dir with a hostile config: where .git points
    subprocess.run(["git", "init", "-q", "--bare", str(evil)], check=True)
    (evil / "config").write_text(f"[core]\n\tbare = false\n\tfsmonitor = touch {marker}\n")
    target = {
        "file": f"echo 'gitdir: {evil}' > .git",
        "symlink": f"ln -s {evil} .git",
        "dangling": "ln -s /nope .git",
    }
    sandbox.run(f"rm -rf .git && {target[replacement]} && echo changed >> README.md")
    final = drive_the_host_side(sandbox)
    assert not marker.exists()
    assert ".git" not in sandbox.history.tree_at(final)
    assert sandbox.history.read_file(final, "README.md").endswith(b"changed\n")


# ------------------------------------------------------------------ 2. symlinks out of the sandbox

SYMLINK_ATTACK = r"""
set -e
ln -s /etc/shadow shadow
ln -s /proc/self/environ environ
ln -s /proc/1/root pid1_root
ln -s "$1" host_secret
ln -s / slash
ln -s loop loop
ln -s a b && ln -s b a
mkdir -p d && ln -s .. d/up && ln -s ../d d/again
rm -f README.md && ln -s "$1" README.md
"""


@pytest.mark.parametrize("sandbox", [pytest.param("docker", marks=DOCKER), "local"], indirect=True)
def test_symlinks_cross_as_data_and_no_host_content_reaches_the_run_folder(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    env_secret = f"env-secret-{os.getpid()}-{time.time_ns()}"
    file_secret = f"file-secret-{os.getpid()}-{time.time_ns()}"
    monkeypatch.setenv("GLIA_TEST_HOST_SECRET", env_secret)
    secret_file = tmp_path / "host_secret.txt"
    secret_file.write_text(file_secret)
    shadow = Path("/etc/shadow").read_bytes() if os.access("/etc/shadow", os.R_OK) else b""

    started = time.monotonic()
    assert (
        sandbox.workspace.exec(f"bash -c {shlex.quote(SYMLINK_ATTACK)} attack {secret_file}").exit_code == 0
    )
    final = drive_the_host_side(sandbox)
    tree = sandbox.history.tree_at(final)
    assert time.monotonic() - started < 120

    assert tree["host_secret"] == TreeEntry(MODE_SYMLINK, str(secret_file).encode())
    assert tree["README.md"] == TreeEntry(MODE_SYMLINK, str(secret_file).encode())
    assert tree["shadow"].data == b"/etc/shadow" and tree["environ"].data == b"/proc/self/environ"
    assert tree["loop"].data == b"loop" and tree["d/up"].data == b".."
    for name in ("host_secret", "README.md", "shadow", "environ", "pid1_root/etc/passwd", "d/up/README.md"):
        with pytest.raises(WorkspaceFileError):
            sandbox.workspace.read_file(name, 1 << 20)
    stored = everything_in(sandbox.run_dir)
    assert env_secret.encode() not in stored and file_secret.encode() not in stored
    assert not [line for line in shadow.splitlines() if b"$" in line and line in stored]  # no host hash


# ------------------------------------------------------------------ 3. hangs and floods

SPECIALS_ATTACK = r"""
set -e
mkfifo fifo
ln -s /dev/zero zero && ln -s /dev/urandom urandom && ln -s /dev/stdin stdin
truncate -s 10G sparse.bin
python3 -c '
import os
os.makedirs("chain")
os.chdir("chain")
for _ in range(4096):
    os.mkdir("d")
    os.chdir("d")
open("bottom.txt", "w").write("deep")
'
"""

FLOOD_ATTACK = r"""
set -e
python3 -c '
import os
os.makedirs("flood")
for i in range(100_000):
    open(f"flood/f{i:06d}", "w").close()
'
echo "VALUE = 42" >> llmsim/global_schedulers/ai_global_scheduler.py
"""
DESIGN = "llmsim/global_schedulers/ai_global_scheduler.py"


def timed_export(box: Sandbox):
    """(tree, seconds, peak bytes of Python memory) of one export."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        tree = box.workspace.export_tree(EXCLUDES_WITH_RESULTS)
        return tree, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@DOCKER
def test_fifos_device_links_sparse_files_and_deep_chains_are_skipped_without_hanging(sandbox: Sandbox):
    assert sandbox.workspace.exec(SPECIALS_ATTACK, timeout_s=300).exit_code == 0
    tree, seconds, peak = timed_export(sandbox)
    assert seconds < 30 and peak < 32 * 2**20, (seconds, peak)
    assert tree.complete
    skipped = "\n".join(tree.skipped)
    assert "fifo: a FIFO, not carried" in skipped
    assert "sparse.bin: too big (10737418240 bytes" in skipped
    assert "deeper than 64 folders" in skipped
    assert not any(path.endswith("bottom.txt") for path in tree)
    assert tree["zero"].data == b"/dev/zero" and tree["urandom"].data == b"/dev/urandom"
    assert tree["stdin"].data == b"/dev/stdin" and "llmsim/simulator.py" in tree

    started = time.monotonic()
    for name in ("fifo", "zero", "urandom", "stdin"):
        with pytest.raises(WorkspaceFileError):
            sandbox.workspace.read_file(name, 1 << 20)
    with pytest.raises(WorkspaceFileError, match="bigger than"):
        sandbox.workspace.read_file("sparse.bin", 1 << 20)
    assert time.monotonic() - started < 30
    drive_the_host_side(sandbox)  # snapshots, restore (a FIFO is not restored, links are), final


@DOCKER
def test_a_hundred_thousand_files_stop_at_the_cap_and_the_design_is_still_saved(sandbox: Sandbox):
    assert sandbox.workspace.exec(FLOOD_ATTACK, timeout_s=300).exit_code == 0
    tree, seconds, peak = timed_export(sandbox)
    assert seconds < 60 and peak < 96 * 2**20, (seconds, peak)
    assert not tree.complete and len(tree) <= 20_000
    assert "export incomplete: over the cap of 20000 files" in tree.skipped
    snapshotter = Snapshotter(sandbox.workspace, sandbox.history, EXCLUDES_WITH_RESULTS, always=(DESIGN,))
    saved = snapshotter.save("sim 1 in a flooded tree")
    assert sandbox.history.read_file(saved.sha, DESIGN).endswith(b"VALUE = 42\n")
    assert "incomplete export" in sandbox.history.message(saved.sha)


EXCLUDES_WITH_RESULTS = (".git", "__pycache__", "*.pyc", "simulator_results")


@DOCKER
@with_limits(disk="256m")
def test_a_file_growing_during_the_export_is_cut_off(sandbox: Sandbox):
    sandbox.run("setsid nohup sh -c 'cat /dev/zero > grow.bin' > /dev/null 2>&1 & sleep 0.5; echo started")
    tracemalloc.start()
    started = time.monotonic()
    tree = sandbox.workspace.export_tree(EXCLUDES_WITH_RESULTS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.monotonic() - started < 60 and peak < 96 * 2**20
    assert "grow.bin" not in tree
    assert any(line.startswith("grow.bin: too big") for line in tree.skipped)
    assert "llmsim/simulator.py" in tree
    sandbox.run("pkill -f 'cat /dev/zero'; rm -f grow.bin")


# ------------------------------------------------------------------ 4. disk


@DOCKER
def test_a_gigabyte_of_output_keeps_at_most_twice_the_cap_on_the_host(sandbox: Sandbox):
    keep = sandbox.workspace.limits.output_keep_bytes
    tracemalloc.start()
    result = sandbox.workspace.exec("head -c 1073741824 /dev/zero | tr '\\0' x; echo END", timeout_s=300)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.exit_code == 0 and result.output_bytes == 2**30 + 4
    assert result.output_path.stat().st_size <= 2 * keep + 200
    assert sum(p.stat().st_size for p in result.output_path.parent.iterdir()) < 2 * keep + 4096
    assert result.output.endswith("xxxxEND\n")
    assert peak < 4 * keep + 16 * 2**20, peak


@DOCKER
@with_limits(disk="64m", tmp="16m")
def test_filling_the_repository_or_tmp_is_an_ordinary_enospc(sandbox: Sandbox):
    full = sandbox.workspace.exec("head -c 100m /dev/zero > big.bin; echo rc=$?", timeout_s=60)
    assert "No space left on device" in full.output and "rc=1" in full.output
    tmp = sandbox.workspace.exec("head -c 50m /dev/zero > /tmp/big.bin; echo rc=$?", timeout_s=60)
    assert "No space left on device" in tmp.output and "rc=1" in tmp.output
    assert sandbox.workspace.is_alive()
    saved = sandbox.snapshotter.save("while full")  # the host side still works on a full sandbox
    assert any(line.startswith("big.bin: too big") for line in saved.skipped)
    after = sandbox.workspace.exec("rm -f big.bin /tmp/big.bin && echo 'VALUE = 2' >> README.md && echo ok")
    assert after.output == "ok\n"
    assert sandbox.snapshotter.save("after", only_if_changed=True).changed
