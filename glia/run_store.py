"""Run state on disk: the run folder layout and run.json's atomic reading and writing, in one place.

The orchestrator writes run.json whenever something changes; the CLI (`glia runs`, `show`, `report`,
`resume`) reads it through `glia.record.view`. Writes go to a temporary file that replaces run.json in one
step, so a reader or a crash never sees half a file. What run.json holds is defined in `glia.record.run`.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
EVALUATIONS_DIR = "evaluations"
BEST_DIR = "best"


class RunNotFound(FileNotFoundError):
    """The folder holds no run.json: not a run folder, or the run never got past creation."""


def run_file(run_dir: Path) -> Path:
    return Path(run_dir) / RUN_FILE


def context_dir(run_dir: Path, index: int) -> Path:
    """Folder of context `index` (1-based): transcript, notes, repo and outputs."""
    return Path(run_dir) / f"ctx-{index}"


def evaluation_file(run_dir: Path, index: int, label: str) -> Path:
    """Where the trusted evaluation of one design of context `index` is kept."""
    return Path(run_dir) / EVALUATIONS_DIR / f"ctx{index}-{label}.json"


def save_run(run_dir: Path, data: dict[str, Any]) -> None:
    """Write run.json atomically (temp file in the same folder, fsync, os.replace)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json_safe(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
    fd, tmp_name = tempfile.mkstemp(dir=run_dir, prefix=f".{RUN_FILE}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, run_file(run_dir))
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, value: Any) -> None:
    """Write one JSON file so that readers see the old or the new content, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def load_run(run_dir: Path) -> dict[str, Any]:
    """The run.json of a run folder as a dict."""
    path = run_file(run_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunNotFound(f"{run_dir} is not a Glia run folder: {RUN_FILE} is missing") from None
    return json.loads(text)


class RunRecord:
    """The in-memory run.json of a live run, saved to disk after every change.

    Threads of an MCG-Par run update it concurrently; one lock orders the changes and the writes.
    """

    def __init__(self, run_dir: Path, data: dict[str, Any]) -> None:
        self.run_dir = Path(run_dir)
        self._data = data
        self._lock = threading.RLock()

    @classmethod
    def load(cls, run_dir: Path) -> RunRecord:
        return cls(run_dir, load_run(run_dir))

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply `change` to the data and save, as one step."""
        with self._lock:
            change(self._data)
            save_run(self.run_dir, self._data)

    def try_update(self, change: Callable[[dict[str, Any]], None], timeout_s: float) -> bool:
        """Like `update`, but gives up after `timeout_s` if another thread holds the record (emergencies)."""
        if not self._lock.acquire(timeout=timeout_s):
            return False
        try:
            change(self._data)
            save_run(self.run_dir, self._data)
            return True
        finally:
            self._lock.release()

    def snapshot(self) -> dict[str, Any]:
        """A deep copy, safe to read while other threads keep updating."""
        with self._lock:
            return copy.deepcopy(self._data)


def json_safe(value: Any) -> Any:
    """Plain JSON: paths become strings, NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
