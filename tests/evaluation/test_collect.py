"""The simulation command's own collection of its result files (glia/evaluation/collect.py), run by a
real bash on this machine, and the host's parsing of the archive as hostile data."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from glia.evaluation.collect import ARCHIVE, archive_cap, collecting_command, unpack
from glia.workspace.base import WorkspaceFileError

FILES = ["summary.json", "request_metrics.csv"]
EXPERIMENT = "trusted_results/main w/main-0"  # a space: every path is quoted
COLLECTED = "trusted_collected/glia-eval_0"


def _run(root: Path, command: str) -> int:
    script = collecting_command(command, EXPERIMENT, COLLECTED, FILES)
    return subprocess.run(["bash", "-c", script], cwd=root, check=False).returncode


def _make_run(name: str, files: dict[str, str]) -> str:
    """Shell text that leaves a run folder `name` holding `files`, as the simulator would."""
    folder = f"'{EXPERIMENT}/{name}'"
    lines = [f"mkdir -p {folder}"] + [f"printf %s '{text}' > {folder}/{file}" for file, text in files.items()]
    return "\n".join(lines)


def _archived(root: Path) -> dict[str, bytes]:
    data = (root / COLLECTED / ARCHIVE).read_bytes()
    return unpack(data, {name: 1000 for name in FILES})


def test_the_single_run_folder_is_archived_and_removed_and_the_exit_status_kept(tmp_path: Path) -> None:
    files = {"summary.json": '{"mean_e2e": 1}', "request_metrics.csv": "a,b", "gs_log.csv": "big"}
    status = _run(tmp_path, _make_run("2026-12-08_00-00-00", files) + "\nexit 3")
    assert status == 3  # the simulator's status, though the collection ran after it
    assert _archived(tmp_path) == {"summary.json": b'{"mean_e2e": 1}', "request_metrics.csv": b"a,b"}
    assert not (tmp_path / EXPERIMENT).exists()  # the rest (gs_log.csv) is gone


def test_nothing_is_collected_unless_one_run_folder_holds_a_summary(tmp_path: Path) -> None:
    two = _make_run("a", {"summary.json": "{}"}) + "\n" + _make_run("b", {"summary.json": "{}"})
    assert _run(tmp_path, two) == 0
    assert not (tmp_path / COLLECTED).exists()
    assert sorted(p.name for p in (tmp_path / EXPERIMENT).iterdir()) == ["a", "b"]  # left to be listed
    (tmp_path / "trusted_results").rename(tmp_path / "old")
    assert _run(tmp_path, _make_run("a", {"request_metrics.csv": "x"})) == 0  # no summary
    assert not (tmp_path / COLLECTED).exists() and (tmp_path / EXPERIMENT / "a").is_dir()


def test_the_previous_simulations_collection_is_gone_before_the_next_one_runs(tmp_path: Path) -> None:
    assert _run(tmp_path, _make_run("a", {"summary.json": "{}", "request_metrics.csv": ""})) == 0
    assert (tmp_path / COLLECTED / ARCHIVE).exists()
    assert _run(tmp_path, "exit 1") == 1  # a run that left nothing behind
    assert not (tmp_path / COLLECTED).exists()  # the last run's files are never read for this one


def test_a_missing_second_file_still_collects_the_summary(tmp_path: Path) -> None:
    assert _run(tmp_path, _make_run("a", {"summary.json": "{}"})) == 0
    assert _archived(tmp_path) == {"summary.json": b"{}"}


def _tar(members: list[tuple[str, bytes | None, str | None]]) -> bytes:
    """A tar of (name, data, symlink target) members, whatever a hostile archive could hold."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, data, target in members:
            info = tarfile.TarInfo(name)
            if target is not None:
                info.type, info.linkname = tarfile.SYMTYPE, target
                archive.addfile(info)
            else:
                info.size = len(data or b"")
                archive.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


def test_unpack_keeps_only_the_named_regular_files_within_their_limits() -> None:
    limits = {"summary.json": 10, "request_metrics.csv": 100}
    data = _tar(
        [("summary.json", b"{}", None), ("extra.txt", b"x", None), ("request_metrics.csv", None, "/etc")]
    )
    assert unpack(data, limits) == {"summary.json": b"{}"}  # no symlink, nothing unasked for
    with pytest.raises(WorkspaceFileError, match="summary.json: bigger than 10 bytes"):
        unpack(_tar([("summary.json", b"x" * 11, None)]), limits)
    assert unpack(b"not a tar at all" * 100, limits) == {}
    assert archive_cap(limits) > 110
