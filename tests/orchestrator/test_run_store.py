"""run.json on disk: atomic writes, reading it back (raw for the writer, typed for readers)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from glia import run_store
from glia.record.run import UNKNOWN_STATUS, RunDoc
from glia.run_store import RunNotFound, RunRecord, load_run, save_run


def test_save_and_load_round_trip_with_paths_and_nan(tmp_path: Path) -> None:
    save_run(tmp_path, {"run_id": "a", "dir": tmp_path, "score": float("nan"), "items": (1, 2)})
    assert load_run(tmp_path) == {"run_id": "a", "dir": str(tmp_path), "score": None, "items": [1, 2]}
    json.loads((tmp_path / "run.json").read_text())  # strict JSON
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left behind


def test_a_failed_write_leaves_the_previous_run_json_intact(tmp_path: Path, monkeypatch) -> None:
    save_run(tmp_path, {"status": "running"})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(run_store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_run(tmp_path, {"status": "finished"})
    monkeypatch.setattr(run_store.os, "replace", os.replace)
    assert load_run(tmp_path) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_readers_never_see_a_partial_file_during_concurrent_updates(tmp_path: Path) -> None:
    record = RunRecord(tmp_path, {"items": []})
    record.update(lambda d: None)
    done = threading.Event()
    bad: list[str] = []

    def read_continuously() -> None:
        while not done.is_set():
            try:
                json.loads((tmp_path / "run.json").read_text())
            except json.JSONDecodeError as exc:
                bad.append(str(exc))

    reader = threading.Thread(target=read_continuously)
    reader.start()
    writers = [
        threading.Thread(
            target=lambda k=k: [record.update(lambda d: d["items"].append(k)) for _ in range(50)]
        )
        for k in range(4)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    reader.join()
    assert bad == []
    assert sorted(load_run(tmp_path)["items"]) == sorted([k for k in range(4) for _ in range(50)])


def test_load_run_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RunNotFound, match="not a Glia run folder"):
        load_run(tmp_path)


def test_rundoc_read_is_the_one_strict_reader(tmp_path: Path) -> None:
    """RunDoc.read: no run.json is RunNotFound, bad JSON a ValueError, a sparse (old) run.json reads with
    defaults, and a black-box method's own section comes through for the comparison."""
    with pytest.raises(RunNotFound):
        RunDoc.read(tmp_path / "nothing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json")
    with pytest.raises(ValueError):
        RunDoc.read(tmp_path / "broken")
    save_run(tmp_path / "old", {"status": "failed", "usage": {"simulations": 3, "dollars": 0.5}})
    old = RunDoc.read(tmp_path / "old")
    assert (old.run_id, old.version, old.status, old.usage.simulations, old.usage.dollars) == (
        "old",
        1,
        "failed",
        3,
        0.5,
    )
    assert (old.best, old.error, dict(old.blackbox)) == (None, None, {})
    save_run(tmp_path / "bb", {"run_id": "r", "blackbox": {"counts": {"candidates": 4}}})
    assert RunDoc.read(tmp_path / "bb").blackbox["counts"] == {"candidates": 4}
    save_run(tmp_path / "nostatus", {"run_id": "x"})
    assert RunDoc.read(tmp_path / "nostatus").status == UNKNOWN_STATUS
