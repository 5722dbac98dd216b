"""Trees as data: the hostile tar parser, the never-following folder walker, names, caps."""

from __future__ import annotations

import io
import os
import tarfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from glia.workspace.tree import (
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SYMLINK,
    Tree,
    TreeCaps,
    TreeEntry,
    is_excluded,
    path_problem,
    tree_from_folder,
    tree_from_tar_stream,
    tree_to_tar,
)


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_member(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def chunked(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_tree_round_trips_through_tar():
    tree = Tree(
        {
            "a.py": TreeEntry(MODE_FILE, b"x = 1\n"),
            "bin/run.sh": TreeEntry(MODE_EXECUTABLE, b"#!/bin/sh\n"),
            "link": TreeEntry(MODE_SYMLINK, b"/etc/shadow"),
            'deep/er/é ü "q".txt': TreeEntry(MODE_FILE, b"\x00\xff binary"),
        }
    )
    back = tree_from_tar_stream(chunked(tree_to_tar(tree)))
    assert back == tree and back.complete and back.skipped == ()
    assert back["link"].data == b"/etc/shadow" and back["link"].is_symlink
    assert back["bin/run.sh"].is_executable


def test_only_files_and_symlinks_are_kept_everything_else_is_named():
    stream = tar_of(
        file_member("./ok.txt", b"fine"),
        special("hard", tarfile.LNKTYPE, "ok.txt"),
        special("fifo", tarfile.FIFOTYPE),
        special("zero", tarfile.CHRTYPE),
        special("dir", tarfile.DIRTYPE),
        special("ln", tarfile.SYMTYPE, "/dev/zero"),
    )
    tree = tree_from_tar_stream([stream])
    assert dict(tree) == {
        "ok.txt": TreeEntry(MODE_FILE, b"fine"),
        "ln": TreeEntry(MODE_SYMLINK, b"/dev/zero"),
    }
    assert tree.complete
    assert set(tree.skipped) == {
        "hard: a hard link, not carried",
        "fifo: a FIFO, not carried",
        "zero: a device, not carried",
    }


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd", "absolute path"),
        ("../outside", "'..'"),
        ("a/../../b", "'..'"),
        ("new\nline", "control character"),
        ("a//b", "empty"),
    ],
)
def test_unsafe_names_are_skipped_with_a_reason(name, why):
    tree = tree_from_tar_stream([tar_of(file_member(name, b"payload"), file_member("kept", b"k"))])
    assert list(tree) == ["kept"]
    assert len(tree.skipped) == 1 and why in tree.skipped[0]


@pytest.mark.parametrize("name", ["sub/.git/config", ".GIT/hooks/post-commit", ".git./x", ".git", "a/.Git"])
def test_git_data_in_any_spelling_is_never_carried(name):
    tree = tree_from_tar_stream(
        [tar_of(file_member(name, b"[core] fsmonitor = x"), file_member("kept", b"k"))]
    )
    assert list(tree) == ["kept"] and tree.skipped == ()


def test_excluded_paths_are_dropped_silently():
    stream = tar_of(
        file_member("simulator_results/x/summary.json", b"{}"),
        file_member("pkg/__pycache__/m.pyc", b"\0"),
        file_member("pkg/m.pyc", b"\0"),
        file_member("pkg/m.py", b"m"),
        file_member(".git", b"gitdir: /etc"),
    )
    tree = tree_from_tar_stream([stream], excludes=("__pycache__", "*.pyc", "simulator_results"))
    assert list(tree) == ["pkg/m.py"] and tree.skipped == ()


def test_exclude_patterns_with_a_slash_are_anchored():
    assert is_excluded("results/a", ("results",))
    assert is_excluded("deep/results/a", ("results",))
    assert is_excluded("out/tmp/x", ("out/tmp",))
    assert not is_excluded("deep/out/tmp/x", ("out/tmp",))
    assert is_excluded("x/.git/config", ())


def test_per_file_count_and_total_caps():
    caps = TreeCaps(max_file_bytes=10, max_entries=3, max_total_bytes=25)
    big = tree_from_tar_stream([tar_of(file_member("big", b"x" * 11), file_member("small", b"s"))], caps)
    assert list(big) == ["small"] and big.skipped == ("big: too big (11 bytes > 10)",) and big.complete
    many = tree_from_tar_stream([tar_of(*(file_member(f"f{i}", b"1") for i in range(6)))], caps)
    assert list(many) == ["f0", "f1", "f2"] and not many.complete
    assert many.skipped[-1].startswith("export incomplete: over the cap of 3 files")
    total = tree_from_tar_stream([tar_of(*(file_member(f"t{i}", b"x" * 10) for i in range(4)))], caps)
    assert list(total) == ["t0", "t1"] and not total.complete


def test_duplicates_and_file_folder_clashes_keep_the_first():
    stream = tar_of(file_member("a", b"1"), file_member("a", b"2"), file_member("a/b", b"3"))
    tree = tree_from_tar_stream([stream])
    assert dict(tree) == {"a": TreeEntry(MODE_FILE, b"1")}
    assert tree.skipped == ("a: listed twice", "a/b: clashes with a folder or file of the same name")


def endless(first: bytes, filler: bytes = b"\x00" * 65536) -> Iterator[bytes]:
    yield first
    while True:
        yield filler


@pytest.mark.parametrize(
    "kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XGLTYPE]
)
def test_a_huge_extended_header_is_refused_before_it_is_read(kind):
    info = tarfile.TarInfo("././@header")
    info.type, info.size = kind, 50 * 2**30  # claims 50 GiB
    tracemalloc.start()
    started = time.monotonic()
    tree = tree_from_tar_stream(endless(info.tobuf(format=tarfile.GNU_FORMAT)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.monotonic() - started < 2 and peak < 8 * 2**20
    assert not tree.complete and len(tree) == 0
    assert tree.skipped[0].startswith("export incomplete: a ")


def test_a_member_claiming_gigabytes_costs_at_most_the_stream_cap():
    info = tarfile.TarInfo("huge")
    info.size = 10 * 2**30
    caps = TreeCaps(max_stream_bytes=32 * 2**20)
    tracemalloc.start()
    tree = tree_from_tar_stream(endless(info.tobuf(format=tarfile.GNU_FORMAT), b"z" * 2**20), caps)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 2**20
    assert tree.skipped[0] == f"huge: too big ({10 * 2**30} bytes > {caps.max_file_bytes})"
    assert tree.skipped[-1] == f"export incomplete: the stream went past {32 * 2**20} bytes"


def test_a_stream_that_never_ends_or_stalls_hits_the_deadline():
    def trickle() -> Iterator[bytes]:
        yield tar_of(file_member("first", b"1"))[:1024]  # a header and data, then no end
        while True:
            time.sleep(0.05)
            yield b"\x01"

    started = time.monotonic()
    tree = tree_from_tar_stream(trickle(), TreeCaps(timeout_s=1.0))
    assert time.monotonic() - started < 3
    assert not tree.complete and "time limit" in tree.skipped[-1] or "malformed" in tree.skipped[-1]


def test_garbage_and_empty_streams_end_cleanly():
    assert tree_from_tar_stream([]).skipped == ("export incomplete: the sandbox sent no tar data",)
    garbage = tree_from_tar_stream([os.urandom(4096)])
    assert not garbage.complete and "malformed tar stream" in garbage.skipped[0]


def test_the_skipped_list_is_bounded():
    stream = tar_of(*(special(f"fifo{i}", tarfile.FIFOTYPE) for i in range(500)))
    tree = tree_from_tar_stream([stream], TreeCaps(max_skipped_listed=10))
    assert len(tree.skipped) == 11 and tree.skipped[-1] == "... and 490 more left out"


def test_paths_are_checked():
    assert path_problem("ok/fine.py") is None
    assert path_problem("a" * 2000) == "path longer than 1024 bytes"
    assert path_problem("/".join(["d"] * 65)) == "deeper than 64 folders"
    with pytest.raises(ValueError, match="absolute"):
        Tree({"/abs": TreeEntry(MODE_FILE, b"")})
    with pytest.raises(ValueError, match="mode"):
        TreeEntry(0o100600, b"")


# ------------------------------------------------------------------ host folders


def test_a_folder_is_read_without_following_anything(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("a")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("host secret")
    (root / "to_secret").symlink_to(outside / "secret.txt")
    (root / "to_dir").symlink_to(outside)
    (root / "loop").symlink_to(root / "loop")
    os.mkfifo(root / "fifo")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n\tfsmonitor = touch /tmp/pwned\n")
    tree = tree_from_folder(root)
    assert tree["pkg/a.py"].data == b"a" and tree["run.sh"].is_executable
    assert tree["to_secret"] == TreeEntry(MODE_SYMLINK, str(outside / "secret.txt").encode())
    assert tree["to_dir"].is_symlink and tree["loop"].is_symlink
    assert not any(p.startswith(".git") for p in tree)
    assert tree.skipped == ("fifo: a FIFO, not carried",)
    assert b"host secret" not in b"".join(e.data for e in tree.values())


def test_folder_caps_and_depth(tmp_path: Path):
    root = tmp_path / "repo"
    deep = root
    for _ in range(10):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("x")
    (root / "big.bin").write_bytes(b"b" * 100)
    tree = tree_from_folder(root, caps=TreeCaps(max_depth=5, max_file_bytes=50))
    assert len(tree) == 0
    assert "big.bin: too big (100 bytes > 50)" in tree.skipped
    assert "d/d/d/d/d/: deeper than 5 folders" in tree.skipped


def test_the_simulator_template_reads_whole(sim_template: Path):
    tree = tree_from_folder(sim_template, excludes=(".git", "__pycache__", "*.pyc", "simulator_results"))
    assert tree.complete and tree.skipped == ()
    assert "llmsim/__init__.py" in tree and "run_all.sh" in tree
    assert tree["run_all.sh"].is_executable
